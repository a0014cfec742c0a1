from django.apps import AppConfig


class MlcoreConfig(AppConfig):
    name = "mlcore"
    verbose_name = "Models and insights"

    def ready(self) -> None:
        from mlcore import privacy

        privacy.register()  # export and erasure of scores, segments, recommendations, features, sentiments
