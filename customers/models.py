"""The shop's data: customers, products, orders and their lines, reviews and browsing events."""
from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce

# Prices keep the precision a file gives (a unit price derived from a line total, 86.01 for 30,080
# units of fuel, is 0.002859375); amounts (order totals) keep 4 decimals and are shown to the cent.
PRICE_DIGITS, PRICE_PLACES = 24, 10
AMOUNT_DIGITS, AMOUNT_PLACES = 20, 4


class ConsentSource(models.TextChoices):
    IMPORT = "import", "Import"
    SIGNUP = "signup", "Sign-up form"
    ADMIN = "admin", "Admin"
    API = "api", "API"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
    BOUNCE = "bounce", "Hard bounce"


class CustomerQuerySet(models.QuerySet):
    def emailable(self):
        return self.filter(email_consent=True).exclude(email="")

    def not_erased(self):
        """Customers who have not asked to be erased: the only ones training sets may hold."""
        return self.filter(erased_at__isnull=True)

    def with_net_spend(self):
        """Annotate net_spend: sales minus returns (OrderLine.objects.net()), 0 for a customer with none."""
        per_customer = (
            OrderLine.objects.net().filter(order__customer=models.OuterRef("pk")).order_by()
            .values("order__customer").annotate(total=models.Sum(LINE_AMOUNT)).values("total")
        )
        return self.annotate(net_spend=Coalesce(models.Subquery(per_customer), Decimal("0"), output_field=LINE_AMOUNT.output_field))


class Customer(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True, db_index=True)
    name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=64, blank=True, db_index=True)
    first_seen = models.DateTimeField(null=True, blank=True)
    email_consent = models.BooleanField(default=False)
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_source = models.CharField(max_length=16, choices=ConsentSource.choices, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Set by a GDPR erasure: PII wiped, left out of every training set.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.name or 'Customer'} ({self.external_id})"


class ConsentChange(models.Model):
    """Every change of a customer's email consent, kept as history for compliance."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    consented = models.BooleanField()
    source = models.CharField(max_length=16, choices=ConsentSource.choices)
    note = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {'opt-in' if self.consented else 'opt-out'} {self.changed_at:%Y-%m-%d}"


class ProductQuerySet(models.QuerySet):
    def recommendable(self):
        return self.filter(active=True, kind=Product.Kind.PRODUCT)


class Product(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", "Product"
        FEE = "fee", "Fee / non-product"

    sku = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=120, blank=True, db_index=True)
    price = models.DecimalField(max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES, null=True, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PRODUCT)
    active = models.BooleanField(default=True)
    image_url = models.URLField(blank=True)
    url = models.URLField(blank=True)
    other_titles = models.JSONField(default=list, blank=True, help_text="Other descriptions seen for this SKU.")
    attributes = models.JSONField(default=dict, blank=True, help_text="Extra columns of the shop's files (brand, department, ...).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__gte=0), name="product_price_not_negative")]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}"


class OrderQuerySet(models.QuerySet):
    def with_customer(self):
        return self.filter(customer__isnull=False)

    def purchases(self):
        """Orders that hold a sale (OrderLine.objects.sales()): what "an order" means in counts and recency."""
        return self.filter(models.Exists(OrderLine.objects.sales().filter(order=models.OuterRef("pk"))))


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    external_id = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLACED)
    currency = models.CharField(max_length=3, default="GBP")
    total = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("0"))
    country = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "placed_at"], name="order_customer_placed"),
            models.Index(fields=["placed_at"], name="order_placed"),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"

    @property
    def is_guest(self) -> bool:
        return self.customer_id is None


class OrderLineQuerySet(models.QuerySet):
    """The one definition of a sale, a return and a line's amount (issue #12); every app reads these.

    A sale is a product line (not a fee) with a positive quantity in an order that was not
    cancelled. A return is a product line with a negative quantity, wherever it is filed: the
    import files credit notes (the returns) as cancelled orders of negative lines. Net spend is
    sales plus returns (returns are negative). mlcore.ml.sales says the same for frames.
    """

    def products(self):
        return self.exclude(product__kind=Product.Kind.FEE)

    def sales(self):
        return self.products().filter(quantity__gt=0).exclude(order__status=Order.Status.CANCELLED)

    def returns(self):
        return self.products().filter(quantity__lt=0)

    def net(self):
        """The lines that make net spend: sales and returns."""
        return self.products().filter(Q(quantity__lt=0) | ~Q(order__status=Order.Status.CANCELLED))

    def with_amount(self):
        return self.annotate(line_amount=LINE_AMOUNT)

    def net_spend_per_customer(self):
        """Rows of (customer_id, value): each known customer's net spend in one GROUP BY (audiences, alerts)."""
        return (self.net().filter(order__customer__isnull=False).values(customer_id=models.F("order__customer_id"))
                .annotate(value=models.Sum(LINE_AMOUNT)).order_by())


LINE_AMOUNT = models.ExpressionWrapper(
    models.F("quantity") * models.F("unit_price"), output_field=models.DecimalField(max_digits=AMOUNT_DIGITS + PRICE_PLACES, decimal_places=PRICE_PLACES)
)


class OrderLine(models.Model):
    """One line of an order; a return is a negative quantity linked to the sale where known."""

    # No single-column indexes on order and product: the unique (order, line_no) and the
    # (product, order) indexes below start with them and serve the same lookups, and every extra
    # index on this largest table slows each import.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines", db_index=False)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES)
    returned_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="returns",
        help_text="For a return: the sale line it undoes, where it could be matched.",
    )
    # The import's natural key of a line (a 128-bit hash of its source content, see docs/data.md):
    # re-imports and overlapping files match on it instead of creating a second copy. A UUID
    # column, because 16 bytes compare far faster in the unique index than 32 collated chars.
    source_key = models.UUIDField(null=True, blank=True, unique=True)

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_line_no"),
            models.CheckConstraint(condition=~Q(quantity=0), name="orderline_quantity_not_zero"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "order"], name="orderline_product")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no} {self.quantity} x {self.product_id}"

    @property
    def is_return(self) -> bool:
        return self.quantity < 0

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class Review(models.Model):
    class Label(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"

    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    label = models.CharField(max_length=8, choices=Label.choices, blank=True,
                             help_text="A file's positive/negative label, for review files without stars.")
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True, db_index=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="review_rating_1_5"),
        ]
        indexes = [models.Index(fields=["customer", "created_at"], name="review_customer_created")]

    def __str__(self) -> str:
        return f"Review {self.pk} ({self.rating or '-'}/5)"


class Event(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", "View"
        CLICK = "click", "Click"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        SEARCH = "search", "Search"
        # written by the support assistant (campaigns.assistant) through customers.services.event_record;
        # churn features count them
        SUPPORT_CONTACT = "support", "Support contact"
        SUPPORT_NEGATIVE = "support_neg", "Negative support message"

    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    occurred_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "occurred_at"], name="event_customer_occurred")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.customer_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ImportBatch(models.Model):
    """One run of a file (or API payload) import: what came in, what changed, what each cleaning rule did."""

    class Kind(models.TextChoices):
        ORDERS = "orders", "Order lines"
        CUSTOMERS = "customers", "Customers"
        PRODUCTS = "products", "Products"
        REVIEWS = "reviews", "Reviews"
        EVENTS = "events", "Events"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    source_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    preset = models.CharField(max_length=40, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="Column mapping used (canonical field -> file column).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0, help_text="Rows to load after cleaning (progress denominator).")
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows loaded so far (progress numerator).")
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rule_counts = models.JSONField(default=dict, blank=True, help_text="Cleaning rule name -> lines it affected.")
    samples = models.JSONField(default=dict, blank=True, help_text="Cleaning rule name -> a few affected lines (file line numbers).")
    entity_counts = models.JSONField(default=dict, blank=True, help_text="Per table: created / updated / unchanged.")
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey("infra.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The job that runs this import: its progress, heartbeat and end state.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.kind} {self.source_name} ({self.status})"

    @property
    def progress(self) -> float:
        return self.rows_done / self.rows_total if self.rows_total else 0.0


# The partner API's tables live beside its code; imported here so Django registers them.
from customers.api.models import ApiKey, IdempotencyRecord  # noqa: E402, F401
from customers.privacy.models import PiiAccess, PrivacyRequest  # noqa: E402,F401 - models of the privacy area
from customers.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription  # noqa: E402,F401 - models of the webhooks area
