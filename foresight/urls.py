from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from foresight.catalog import api as catalog_api
from foresight.catalog import views as catalog_views
from foresight.core import views as core_views
from foresight.delphi import api as delphi_api
from foresight.priorities import api as priorities_api
from foresight.public import api as public_api
from foresight.public import views as public_views
from scenarios import api as scenarios_api
from scenarios import views as scenario_views
from scenarios.exchange import api as exchange_api
from scenarios.exchange import pilot_api, views_pilots
from scenarios.exchange import views as exchange_views

handler404 = core_views.not_found

# URL names of the API are "api-<basename>-list" / "api-<basename>-detail": the site's pages own the
# plain names ("topic-list", "topic-detail", …), and the API root (which reverses "<basename>-list")
# would otherwise link to those pages.
router = DefaultRouter()
router.register("directions", catalog_api.DirectionViewSet, basename="api-direction")
router.register("areas", catalog_api.AreaViewSet, basename="api-area")
router.register("topics", public_api.TopicViewSet, basename="api-topic")
router.register("scenarios", scenarios_api.ScenarioViewSet, basename="api-scenario")
router.register("editions", priorities_api.EditionViewSet, basename="api-edition")
router.register("releases", exchange_api.ReleaseViewSet, basename="api-release")
router.register(
    r"releases/(?P<release_code>[^/.]+)/items", exchange_api.ReleaseItemViewSet, basename="api-release-item"
)
router.register("pilots", pilot_api.PilotViewSet, basename="api-pilot")

urlpatterns = [
    path("health/", core_views.health, name="health"),
    path("sign-out/", LogoutView.as_view(next_page="home"), name="sign-out"),
    path("admin/", admin.site.urls),
    path("api/v1/expert/<slug:study_code>/rounds/<int:number>/topics/", delphi_api.ExpertTopicsView.as_view()),
    path(
        "api/v1/expert/<slug:study_code>/rounds/<int:number>/topics/<slug:topic_code>/",
        delphi_api.ExpertAnswersView.as_view(),
    ),
    path("api/v1/expert/<slug:study_code>/rounds/<int:number>/submit/", delphi_api.ExpertSubmitView.as_view()),
    path("api/v1/pipeline/", pilot_api.PipelineView.as_view(), name="api-pipeline"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    # Browsers ask for /favicon.ico wherever a page names no icon (the API's JSON, the schema).
    path("favicon.ico", core_views.favicon, name="favicon"),
]

urlpatterns += i18n_patterns(
    path("", public_views.home, name="home"),
    path("directions/<slug:slug>/", catalog_views.direction_detail, name="direction-detail"),
    path("areas/<slug:slug>/", catalog_views.area_detail, name="area-detail"),
    path("topics/", public_views.topic_list, name="topic-list"),
    path("topics/<slug:code>/", public_views.topic_detail, name="topic-detail"),
    path("scenarios/", scenario_views.scenario_list, name="scenario-list"),
    path("scenarios/<slug:code>/", scenario_views.scenario_detail, name="scenario-detail"),
    path("organisations/", exchange_views.organisation_list, name="organisation-list"),
    path("organisations/<slug:code>/", exchange_views.organisation_detail, name="organisation-detail"),
    path("releases/", exchange_views.release_list, name="release-list"),
    path("releases/<slug:code>/", exchange_views.release_detail, name="release-detail"),
    path("releases/<slug:code>/release.csv", exchange_views.release_csv, name="release-csv"),
    path("releases/<slug:code>/release.json", exchange_views.release_json, name="release-json"),
    path("exchange/", include("scenarios.exchange.urls")),
    path("accounts/", include("allauth.urls")),
    path("delphi/", include("foresight.delphi.urls")),
    path("editions/", include("foresight.priorities.urls")),
    path("staff/priorities/", include("foresight.priorities.workbench_urls")),
    path("staff/", include("foresight.delphi.staff.urls")),
    path("pipeline/", views_pilots.pipeline, name="pipeline"),
    path("pipeline/pilots/", views_pilots.pilot_public_list, name="pilot-list"),
    path("pipeline/pilots.csv", views_pilots.pilots_download, {"fmt": "csv"}, name="pilots-csv"),
    path("pipeline/pilots.json", views_pilots.pilots_download, {"fmt": "json"}, name="pilots-json"),
    path("pipeline/pipeline.csv", views_pilots.pipeline_download, {"fmt": "csv"}, name="pipeline-csv"),
    path("pipeline/pipeline.json", views_pilots.pipeline_download, {"fmt": "json"}, name="pipeline-json"),
    prefix_default_language=False,
)
