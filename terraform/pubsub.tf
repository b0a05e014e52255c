# Pub/Sub: one topic per stage with a push subscription to the stage's function (or Cloud Run service), a dead-letter
# topic per subscription (with a pull subscription that keeps what lands there), and the build events topic.

locals {
  # Pub/Sub redelivers a unit until runUnit gives up after KILN_MAX_ATTEMPTS; dead-lettering catches what never
  # answers at all (crashes, timeouts). Pub/Sub requires 5-100.
  max_delivery_attempts = min(100, max(5, var.max_attempts + 2))
}

resource "google_pubsub_topic" "stage" {
  for_each = toset(local.stages)

  name = "${local.stage_topic_prefix}-${each.key}"

  depends_on = [google_project_service.apis]
}

# Build CloudEvents (docs/events.md). Users subscribe to it; the smoke test makes a temporary subscription. The topic
# keeps every event 7 days, so a subscription created later can seek back to a time and receive builds it missed.
resource "google_pubsub_topic" "events" {
  name                       = local.events_topic
  message_retention_duration = "604800s"

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = toset(local.stages)

  name = "${local.stage_topic_prefix}-${each.key}-dead-letter"

  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = toset(local.stages)

  name                       = "${local.stage_topic_prefix}-${each.key}-dead-letter-hold"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# The same subscriptions as the local stack (emulators/local-stack/topology.ts): <topic>-push to
# <url>/projects/<project>/topics/<topic>, the path the functions framework reads the topic from.
resource "google_pubsub_subscription" "stage_push" {
  for_each = toset(local.stages)

  name                       = "${local.stage_topic_prefix}-${each.key}-push"
  topic                      = google_pubsub_topic.stage[each.key].id
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${local.stage_urls[each.key]}/projects/${var.project_id}/topics/${google_pubsub_topic.stage[each.key].name}"

    oidc_token {
      service_account_email = google_service_account.kiln["invoker"].email
      audience              = local.stage_urls[each.key]
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = local.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_cloud_run_v2_service_iam_member.kiln,
  ]
}

# The Pub/Sub service agent forwards undeliverable messages: it publishes to the dead-letter topic and acknowledges on
# the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(local.stages)

  topic  = google_pubsub_topic.dead_letter[each.key].id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = toset(local.stages)

  subscription = google_pubsub_subscription.stage_push[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
