# Pub/Sub: one topic per stage with a push subscription to the stage's function (or Cloud Run service), a dead-letter
# topic per subscription (with a pull subscription that keeps what lands there), and the build events topic.

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
  ack_deadline_seconds       = local.settings.functions[each.key].ackDeadlineS
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${local.stage_urls[each.key]}/projects/${var.project_id}/topics/${google_pubsub_topic.stage[each.key].name}"

    oidc_token {
      service_account_email = google_service_account.kiln["invoker"].email
      audience              = local.stage_urls[each.key]
    }
  }

  retry_policy {
    minimum_backoff = "${local.settings.functions[each.key].minBackoffS}s"
    maximum_backoff = "${local.settings.functions[each.key].maxBackoffS}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = local.max_delivery_attempts[each.key]
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

# What lands on a dead-letter topic is pushed to the deadletter function, which fails the build with the stage, the
# deliveries and the last error, and publishes the failure event (shared/pipeline/sweep.ts handleDeadLetter). The hold
# subscription above keeps a copy for inspection.
resource "google_pubsub_subscription" "dead_letter_push" {
  for_each = toset(local.stages)

  name                       = "${local.stage_topic_prefix}-${each.key}-dead-letter-push"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = local.settings.functions["deadletter"].ackDeadlineS
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.recovery["deadletter"].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.dead_letter[each.key].name}"

    oidc_token {
      service_account_email = google_service_account.kiln["invoker"].email
      audience              = google_cloudfunctions2_function.recovery["deadletter"].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${local.settings.functions["deadletter"].minBackoffS}s"
    maximum_backoff = "${local.settings.functions["deadletter"].maxBackoffS}s"
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_v2_service_iam_member.kiln]
}
