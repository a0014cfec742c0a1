"""Admin of the shop's data: lists with useful columns, search, filters and computed fields."""
from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Max
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from customers import selectors, services
from customers.models import ConsentChange, ConsentSource, Customer, Event, Order, OrderLine, Product, Review
from customers.money import money_format, price_format
from customers.panels import render_customer_panels
from customers.privacy.admin import gdpr_erase, gdpr_export
from customers.privacy.services import pii_read_mark
from customers.readonly_admin import ReadOnlyAdmin


class ConsentChangeInline(admin.TabularInline):
    model = ConsentChange
    extra = 0
    can_delete = False
    readonly_fields = ["consented", "source", "note", "changed_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderAmount:
    """The order's total in its own currency ($86.01, £12.50), for the order list and inline."""

    @admin.display(description="total", ordering="total")
    def amount(self, obj) -> str:
        return money_format(obj.total, obj.currency)


class RecentOrderInline(OrderAmount, admin.TabularInline):
    model = Order
    extra = 0
    can_delete = False
    fields = ["external_id", "placed_at", "status", "amount"]
    readonly_fields = fields
    show_change_link = True
    ordering = ["-placed_at"]
    max_num = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "email", "country", "email_consent", "order_count", "last_order_at", "first_seen"]
    list_filter = ["email_consent", "country", "email_consent_source"]
    search_fields = ["external_id", "email", "name"]
    date_hierarchy = "first_seen"
    readonly_fields = ["email_consent", "email_consent_at", "email_consent_source", "summary", "lifecycle", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["external_id", "name", "email", "country", "first_seen"]}),
        ("Email consent (change it through the consent actions; history below)", {"fields": ["email_consent", "email_consent_at", "email_consent_source"]}),
        ("Summary", {"fields": ["summary", "lifecycle"]}),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [RecentOrderInline, ConsentChangeInline]
    list_per_page = 50
    show_full_result_count = False
    actions = ["record_opt_in", "record_opt_out", gdpr_export, gdpr_erase]

    @admin.action(description="Record email opt-in (source: admin)")
    def record_opt_in(self, request, queryset):
        changed = sum(services.customer_set_consent(customer_id=pk, consented=True, source=ConsentSource.ADMIN, note=f"by {request.user}") for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} customers opted in.")

    @admin.action(description="Record email opt-out (source: admin)")
    def record_opt_out(self, request, queryset):
        changed = sum(services.customer_set_consent(customer_id=pk, consented=False, source=ConsentSource.ADMIN, note=f"by {request.user}") for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} customers opted out.")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_orders=Count("orders"), _last=Max("orders__placed_at"))

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # the PII access log gets one row for the page (PiiAccessMiddleware)
            pii_read_mark(request, [customer.pk for customer in changelist.result_list])
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id.isdigit():
            pii_read_mark(request, [int(object_id)])
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="orders", ordering="_orders")
    def order_count(self, obj) -> int:
        return obj._orders

    @admin.display(description="last order", ordering="_last")
    def last_order_at(self, obj):
        return obj._last

    @admin.display(description="orders and spend")
    def summary(self, obj) -> str:
        if obj.pk is None:
            return "-"
        s = selectors.customer_summary(customer_id=obj.pk)
        last = s.last_order_at.strftime("%Y-%m-%d %H:%M") if s.last_order_at else "never"
        return format_html("{} orders, net spent {} (after returns), last order {}", s.orders, f"{s.net_spent:,.2f}", last)

    @admin.display(description="lifecycle")
    def lifecycle(self, obj) -> str:
        if obj.pk is None:
            return "-"
        return mark_safe(render_customer_panels(obj.pk) or "No lifecycle data yet.")  # noqa: S308 - panels build with format_html


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "category", "price", "kind", "active", "updated_at"]
    list_filter = ["kind", "active", "category"]
    search_fields = ["sku", "title", "description"]
    readonly_fields = ["other_titles", "created_at", "updated_at"]
    list_per_page = 50


class OrderLineInline(admin.TabularInline):
    """Lines are read here, never edited: they come from imports and the API, which keep Order.total equal to them."""

    model = OrderLine
    extra = 0
    fields = ["line_no", "product", "quantity", "unit_price", "returned_line"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(OrderAmount, admin.ModelAdmin):
    list_display = ["external_id", "customer", "placed_at", "status", "amount", "country"]
    list_filter = ["status", "currency", "country"]
    search_fields = ["external_id", "customer__external_id", "customer__email"]
    date_hierarchy = "placed_at"
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    inlines = [OrderLineInline]
    readonly_fields = ["total"]  # the sum of the lines, kept by the import
    show_full_result_count = False


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = ["order", "line_no", "product", "quantity", "price", "is_return"]
    search_fields = ["order__external_id", "product__sku"]
    raw_id_fields = ["order", "product", "returned_line"]
    list_select_related = ["order", "product"]
    show_full_result_count = False

    @admin.display(description="unit price", ordering="unit_price")
    def price(self, obj) -> str:
        return price_format(obj.unit_price, obj.order.currency)

    @admin.display(boolean=True, description="return")
    def is_return(self, obj) -> bool:
        return obj.is_return


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "customer", "rating", "title", "language", "created_at"]
    list_filter = ["rating", "language"]
    search_fields = ["title", "text", "product__sku"]
    date_hierarchy = "created_at"
    raw_id_fields = ["product", "customer"]
    list_select_related = ["product", "customer"]
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "customer", "product"]
    list_filter = ["kind"]
    search_fields = ["customer__external_id", "product__sku"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["customer", "product"]
    list_select_related = ["customer", "product"]
    show_full_result_count = False


@admin.register(ConsentChange)
class ConsentChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "customer", "consented", "source", "note"]
    list_filter = ["consented", "source"]
    search_fields = ["customer__external_id", "customer__email"]
    date_hierarchy = "changed_at"
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    readonly_fields = ["customer", "consented", "source", "note", "changed_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the history is evidence of consent; it is never edited away

from customers.api import admin as api_admin  # noqa: E402, F401 - registers the API key admin
from customers.imports import admin as _imports_admin  # noqa: E402,F401 - registers ImportBatch and the upload page
from customers.webhooks import admin as _webhooks_admin  # noqa: E402,F401 - registers webhook subscriptions and deliveries
