"""Public pages of campaigns (landing pages, tracking, unsubscribe); no login."""
urlpatterns: list = []
