"""All WebSocket routes, collected from the apps that own them."""

from reviews.routing import websocket_urlpatterns as reviews_ws

websocket_urlpatterns = [*reviews_ws]
