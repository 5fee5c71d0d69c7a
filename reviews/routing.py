from django.urls import path

from reviews.consumers import ReviewConsumer

websocket_urlpatterns = [
    path("ws/reviews/", ReviewConsumer.as_asgi()),
]
