#!/bin/bash
# The walk pasted in docs/api.md (Webhooks and privacy): runserver :8120, a Celery worker (Redis),
# the example receiver on :8125, a debugging SMTP server on :8126 (Python 3.11 smtpd), demo data.
# Usage: DATABASE_URL=postgres://... docs/examples/webhooks_privacy_walk.sh [external_id country sku1 sku2]
# It erases that customer: run it on a demo database only.
set -u
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL: PostgreSQL holding the demo data (make demo)}"
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/2} WEBHOOK_ALLOW_PRIVATE_HOSTS=1 SITE_URL=http://127.0.0.1:8120
EXT=${1:-12781}; COUNTRY=${2:-Czech Republic}; SKU1=${3:-20972}; SKU2=${4:-20974}
export EMAIL_HOST=127.0.0.1 EMAIL_PORT=8126
SECRET=whsec_demo_$(date +%s)
OUT=${TMPDIR:-/tmp}/clm_webhooks_privacy_walk; rm -rf $OUT; mkdir -p $OUT
API=http://127.0.0.1:8120/api/v1
python3 -W ignore -m smtpd -n -c DebuggingServer 127.0.0.1:8126 > $OUT/smtp.log 2>&1 & SMTP=$!
python3 docs/examples/webhook_receiver.py --secret "$SECRET" --port 8125 > $OUT/receiver.log 2>&1 & RECV=$!
nice .venv/bin/celery -A clmsite worker -Q default,email -c 1 --pool solo -l warning > $OUT/worker.log 2>&1 & WORKER=$!
nice .venv/bin/python manage.py runserver 127.0.0.1:8120 --noreload > $OUT/server.log 2>&1 & SERVER=$!
trap 'kill $RECV $WORKER $SERVER $SMTP 2>/dev/null' EXIT
TOKEN=$(.venv/bin/python manage.py drf_create_token admin 2>/dev/null | awk '{print $3}')
for i in $(seq 90); do curl -s -o /dev/null http://127.0.0.1:8120/healthz && break; sleep 1; done
H=(-H "Authorization: Token $TOKEN" -H "Content-Type: application/json")
post() { curl -s "${H[@]}" -X POST "$API/$1" ${2:+-d "$2"}; }
get() { curl -s "${H[@]}" "$API/$1"; }
wait_job() { for i in $(seq 120); do S=$(get privacy-requests/$1/); echo "$S" | grep -q '"succeeded"\|"failed"' && break; sleep 1; done; echo "$S"; }
short() { python3 -c "import json,sys; d=json.load(sys.stdin); print({k: d.get(k) for k in sys.argv[1:]})" "$@"; }

echo "== subscribe to the five events"
post webhooks/ "{\"name\": \"demo partner\", \"url\": \"http://127.0.0.1:8125/hook\", \"secret\": \"$SECRET\", \"events\": [\"segment.entered\", \"churn_risk.crossed\", \"campaign.finished\", \"import.finished\", \"review.negative\"]}" | tee $OUT/subscribe.json | short id name events is_active
SUB=$(python3 -c "import json; print(json.load(open('$OUT/subscribe.json'))['id'])")

echo "== customer $EXT gets a name, reviews and browsing events (three imports: three import.finished)"
post imports/customers/ "[{\"external_id\": \"$EXT\", \"name\": \"Dana Scully\", \"email\": \"dana.scully@example.com\", \"country\": \"$COUNTRY\"}]" | short id status rows_updated
post imports/reviews/ "[{\"external_id\": \"R-$EXT-1\", \"rating\": 1, \"product_sku\": \"$SKU1\", \"customer_id\": \"$EXT\", \"title\": \"Cracked\", \"text\": \"Terrible quality, it arrived cracked and the candles fall out. Very disappointed.\", \"language\": \"en\", \"created_at\": \"2011-11-20T09:00:00\"}, {\"external_id\": \"R-$EXT-2\", \"rating\": 5, \"product_sku\": \"$SKU2\", \"customer_id\": \"$EXT\", \"title\": \"Lovely bag\", \"text\": \"Beautiful bag, great quality, I love it.\", \"language\": \"en\", \"created_at\": \"2011-11-21T09:00:00\"}]" | short id status rows_created
post imports/events/ "[{\"external_id\": \"E-$EXT-1\", \"customer_id\": \"$EXT\", \"kind\": \"view\", \"occurred_at\": \"2011-12-01T10:00:00\", \"sku\": \"$SKU1\"}, {\"external_id\": \"E-$EXT-2\", \"customer_id\": \"$EXT\", \"kind\": \"add_to_cart\", \"occurred_at\": \"2011-12-01T10:02:00\", \"sku\": \"$SKU2\"}]" | short id status rows_created
echo "== score the new reviews (review.negative)"
nice .venv/bin/python manage.py score_reviews 2>&1 | tail -1

echo "== a campaign to $COUNTRY (one customer), started; the worker sends it (campaign.finished)"
post campaigns/ "{\"name\": \"Thank-you to $COUNTRY\", \"slug\": \"thanks-$EXT\", \"holdout_share\": \"0\", \"offer_text\": \"Thanks for shopping with us.\", \"audience_rules\": [{\"key\": \"country\", \"params\": {\"countries\": [\"$COUNTRY\"]}}], \"variants\": [{\"name\": \"A\", \"share\": 100, \"subject\": \"Hello {{ customer.first_name }}\", \"html_body\": \"<p>Hello {{ customer.first_name }}, {{ offer }} <a href=\\\"{{ landing_url }}\\\">Your page</a></p>\", \"text_body\": \"Hello {{ customer.first_name }}, {{ offer }} {{ landing_url }}\"}]}" | tee $OUT/campaign.json | short id status
CID=$(python3 -c "import json; print(json.load(open('$OUT/campaign.json'))['id'])")
post campaigns/$CID/start/ | short id status changed
for i in $(seq 120); do get campaigns/$CID/ | grep -q '"status":"sent"' && break; sleep 1; done
get campaigns/$CID/ | short id status
echo "== the customer opens the mail, follows the landing link, then unsubscribes (consent history)"
sleep 2; python3 - $OUT/smtp.log > $OUT/mail.txt <<'PY'
import quopri, re, sys
text = open(sys.argv[1]).read().replace("b'", "").replace("'\n", "\n")
print(quopri.decodestring(text.encode()).decode(errors="replace"))
PY
PIXEL=$(grep -o 'http://127.0.0.1:8120/t/o/[^"]*\.gif' $OUT/mail.txt | head -1)
CLICK=$(grep -o 'http://127.0.0.1:8120/t/c/[^" ]*/' $OUT/mail.txt | head -1)
UNSUB=$(grep -o 'http://127.0.0.1:8120/u/[^/]*/' $OUT/mail.txt | head -1)
echo "links in the mail: pixel ${PIXEL:0:45}... click ${CLICK:0:45}... unsubscribe ${UNSUB:0:45}..."
curl -s -o /dev/null -w "open pixel %{http_code}\n" "$PIXEL"
curl -s -o /dev/null -w "click %{http_code} -> %{redirect_url}\n" "$CLICK"
curl -s -o /dev/null -w "unsubscribe %{http_code}\n" "$UNSUB"

echo "== staff read the customer through the API (a PII read)"
get customers/$EXT/ | short external_id name email
echo "== GDPR export of $EXT"
EID=$(post customers/$EXT/export/ | tee $OUT/export_post.json | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
short id kind status < $OUT/export_post.json; wait_job $EID > $OUT/export_state.json; short id status result download_url < $OUT/export_state.json
curl -s "${H[@]}" -o $OUT/export.json "$API/privacy-requests/$EID/download/"
echo "== GDPR erasure of $EXT"
RID=$(post customers/$EXT/erase/ | tee $OUT/erase_post.json | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
short id kind status < $OUT/erase_post.json; wait_job $RID > $OUT/erase_state.json; python3 -m json.tool $OUT/erase_state.json
sleep 5
echo "== delivery log"
get "webhooks/$SUB/deliveries/" | python3 -c "
import json,sys
for d in json.load(sys.stdin)['results']: print(d['id'], d['event'], d['status'], d['attempts'], d['response_code'])"
echo "== receiver console"; cat $OUT/receiver.log
echo "== PII access log"
psql "$DATABASE_URL" -Atc "select id, to_char(at, 'HH24:MI:SS'), actor, action, method, route, customer_count from customers_piiaccess where at > now() - interval '10 minutes' order by id"
