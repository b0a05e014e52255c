# Cloud Functions gen2, one per function in functions/ except compile (compile.tf). All share one source zip
# (npm run bundle) and the pipeline environment; each runs as its own service account.

locals {
  functions_build = {
    runtime = "nodejs22"
    bucket  = google_storage_bucket.sources.name
    object  = google_storage_bucket_object.functions.name
  }
}

# ingest: google.cloud.storage.object.v1.finalized on the uploads bucket, through an Eventarc trigger.
resource "google_cloudfunctions2_function" "ingest" {
  name        = "${var.name_prefix}-ingest"
  location    = var.region
  description = "Kiln ingest: a finalized upload → at most one build"

  build_config {
    runtime     = local.functions_build.runtime
    entry_point = "ingest"

    source {
      storage_source {
        bucket = local.functions_build.bucket
        object = local.functions_build.object
      }
    }
  }

  service_config {
    available_memory                 = local.settings.functions["ingest"].memory
    available_cpu                    = tostring(local.settings.functions["ingest"].cpu)
    timeout_seconds                  = local.settings.functions["ingest"].timeoutS
    min_instance_count               = 0
    max_instance_count               = local.settings.functions["ingest"].maxInstances
    max_instance_request_concurrency = 1
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.kiln["ingest"].email
    environment_variables            = local.pipeline_env
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.kiln["invoker"].email

    event_filters {
      attribute = "bucket"
      value     = google_storage_bucket.uploads.name
    }
  }

  depends_on = [
    google_project_iam_member.gcs_pubsub_publisher,
    google_project_iam_member.kiln,
  ]
}

# convert, quantize, verify, finish: HTTP functions (Cloud Run services underneath: requests up to 3600 s, sizes and
# timeouts from stage-settings.json) fed by the push subscriptions of their stage topics (pubsub.tf); the functions
# framework turns each push into a google.cloud.pubsub.topic.v1.messagePublished CloudEvent.
resource "google_cloudfunctions2_function" "stage" {
  for_each = toset(local.stage_functions)

  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = "Kiln ${each.key} stage"

  build_config {
    runtime     = local.functions_build.runtime
    entry_point = each.key

    source {
      storage_source {
        bucket = local.functions_build.bucket
        object = local.functions_build.object
      }
    }
  }

  service_config {
    available_memory                 = local.settings.functions[each.key].memory
    available_cpu                    = tostring(local.settings.functions[each.key].cpu)
    timeout_seconds                  = local.settings.functions[each.key].timeoutS
    min_instance_count               = 0
    max_instance_count               = local.settings.functions[each.key].maxInstances
    max_instance_request_concurrency = 1
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.kiln[each.key].email
    environment_variables            = local.pipeline_env
  }

  depends_on = [google_project_iam_member.kiln]
}

# deadletter (pushes from every stage's dead-letter topic, pubsub.tf) and sweeper (Cloud Scheduler, below): together
# they make sure no build stays running (shared/pipeline/sweep.ts).
resource "google_cloudfunctions2_function" "recovery" {
  for_each = toset(local.recovery_functions)

  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = "Kiln ${each.key}: fails or re-drives stalled builds"

  build_config {
    runtime     = local.functions_build.runtime
    entry_point = each.key

    source {
      storage_source {
        bucket = local.functions_build.bucket
        object = local.functions_build.object
      }
    }
  }

  service_config {
    available_memory                 = local.settings.functions[each.key].memory
    available_cpu                    = tostring(local.settings.functions[each.key].cpu)
    timeout_seconds                  = local.settings.functions[each.key].timeoutS
    min_instance_count               = 0
    max_instance_count               = local.settings.functions[each.key].maxInstances
    max_instance_request_concurrency = 1
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.kiln[each.key].email
    environment_variables            = local.pipeline_env
  }

  depends_on = [google_project_iam_member.kiln]
}

# The sweeper every sweepPeriodS (stage-settings.json), authenticated as the invoker.
resource "google_cloud_scheduler_job" "sweeper" {
  name        = "${var.name_prefix}-sweeper"
  region      = var.region
  description = "Kiln: re-drive or fail builds whose units stopped making progress"
  schedule    = "*/${floor(local.settings.sweepPeriodS / 60)} * * * *"
  time_zone   = "Etc/UTC"

  attempt_deadline = "${local.settings.functions["sweeper"].timeoutS}s"

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.recovery["sweeper"].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.kiln["invoker"].email
      audience              = google_cloudfunctions2_function.recovery["sweeper"].service_config[0].uri
    }
  }

  depends_on = [google_project_service.apis, google_cloud_run_v2_service_iam_member.kiln]
}
