from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    label = "reviews"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from reviews.events import on_work_item_changed
        from workflows.events import work_item_changed

        work_item_changed.connect(on_work_item_changed, dispatch_uid="reviews.publish")
