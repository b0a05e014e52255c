# Kiln on Google Cloud: an upload to the uploads bucket starts a build that runs through one function per stage
# (docs/pipeline.md). This file holds the names, the APIs, the service accounts and their grants; the resources are in
# storage.tf, pubsub.tf, functions.tf, compile.tf and firestore.tf.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # The stage list of shared/pipeline/stages.ts (STAGE_NAMES), in order. Each stage has a topic <prefix>-stage-<stage>
  # and a push subscription to its function; compile runs on Cloud Run from the compiler image (compile.tf).
  stages = ["convert", "train", "quantize", "compile", "verify", "finish"]

  # Stages deployed as Cloud Functions gen2 (functions.tf); ingest is the storage-triggered one.
  stage_functions = ["convert", "train", "quantize", "verify", "finish"]

  # Every function in functions/ (FUNCTION_NAMES in functions/manifest.ts).
  functions = ["ingest", "convert", "train", "quantize", "compile", "verify", "finish", "deadletter", "sweeper"]

  # The recovery functions (functions.tf): the dead-letter consumer and the sweeper Cloud Scheduler calls.
  recovery_functions = ["deadletter", "sweeper"]

  # The one settings table (shared/pipeline/stage-settings.ts, written here by `npm run gen:stage-settings`): each
  # function's memory, CPU, instances, request timeout, lease, ack deadline and back-off. Kiln's own deadlines and
  # leases come from the same table in the code, so no KILN_LEASE_MS / KILN_STAGE_TIMEOUT_MS is set here.
  settings = jsondecode(file("${path.module}/stage-settings.json"))

  # Deliveries before a stage message is dead-lettered: every delivery of max_attempts full leases
  # (settingsOf in stage-settings.ts), within Pub/Sub's 5-100.
  max_delivery_attempts = {
    for s in local.stages : s => min(100, max(5, local.settings.functions[s].deliveriesPerLease * var.max_attempts + 2))
  }

  uploads_bucket     = var.uploads_bucket != "" ? var.uploads_bucket : "${var.project_id}-${var.name_prefix}-uploads"
  artifacts_bucket   = var.artifacts_bucket != "" ? var.artifacts_bucket : "${var.project_id}-${var.name_prefix}-artifacts"
  sources_bucket     = "${var.project_id}-${var.name_prefix}-sources"
  stage_topic_prefix = "${var.name_prefix}-stage"
  events_topic       = "${var.name_prefix}-events"

  # The environment every function reads (ENV_SCHEMA in shared/pipeline/config.ts; the KILN_*_PORT names are for the
  # local stack only). The compile service adds KILN_EDGETPU_COMPILER (compile.tf).
  pipeline_env = {
    KILN_PROJECT_ID             = var.project_id
    KILN_UPLOADS_BUCKET         = local.uploads_bucket
    KILN_ARTIFACTS_BUCKET       = local.artifacts_bucket
    KILN_STAGE_TOPIC_PREFIX     = local.stage_topic_prefix
    KILN_EVENTS_TOPIC           = local.events_topic
    KILN_MAX_UPLOAD_BYTES       = tostring(var.max_upload_bytes)
    KILN_MAX_ATTEMPTS           = tostring(var.max_attempts)
    KILN_MAX_FANOUT             = tostring(var.max_fanout)
    KILN_MAX_PARAMETERS         = tostring(var.max_parameters)
    KILN_MAX_CALIBRATION_IMAGES = tostring(var.max_calibration_images)
    KILN_CALIBRATION_THREADS    = tostring(var.calibration_threads)
    # Each unit in a worker thread that its deadline terminates (shared/pipeline/cores/isolate.ts).
    KILN_UNIT_ISOLATION = "worker"
  }

  # Least privilege: terraform/roles.json is the single table of what each service account may do, per resource
  # (project, bucket, topic, Cloud Run service). test/deploy checks it against what the code does.
  access = jsondecode(file("${path.module}/roles.json"))

  project_grants = {
    for g in flatten([
      for sa, a in local.access : [for role in a.project : { sa = sa, role = role }]
    ]) : "${g.sa} ${g.role}" => g
  }
  bucket_grants = {
    for g in flatten([
      for sa, a in local.access : [
        for bucket, roles in a.buckets : [for role in roles : { sa = sa, bucket = bucket, role = role }]
      ]
    ]) : "${g.sa} ${g.bucket} ${g.role}" => g
  }
  topic_grants = {
    for g in flatten([
      for sa, a in local.access : [
        for topic, roles in a.topics : [for role in roles : { sa = sa, topic = topic, role = role }]
      ]
    ]) : "${g.sa} ${g.topic} ${g.role}" => g
  }
  service_grants = {
    for g in flatten([
      for sa, a in local.access : [
        for service, roles in a.services : [for role in roles : { sa = sa, service = service, role = role }]
      ]
    ]) : "${g.sa} ${g.service} ${g.role}" => g
  }

  # Names in roles.json → the resources they stand for.
  bucket_names = {
    uploads   = google_storage_bucket.uploads.name
    artifacts = google_storage_bucket.artifacts.name
  }
  topic_ids = merge(
    { for stage, t in google_pubsub_topic.stage : stage => t.id },
    { events = google_pubsub_topic.events.id },
  )
  service_names = merge(
    { for name, f in google_cloudfunctions2_function.stage : name => f.name },
    { for name, f in google_cloudfunctions2_function.recovery : name => f.name },
    {
      ingest  = google_cloudfunctions2_function.ingest.name
      compile = google_cloud_run_v2_service.compile.name
    },
  )
  # Base URL each stage's push subscription delivers to.
  stage_urls = merge(
    { for name, f in google_cloudfunctions2_function.stage : name => f.service_config[0].uri },
    { compile = google_cloud_run_v2_service.compile.uri },
  )

  pubsub_service_agent  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  storage_service_agent = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "firebaserules.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
  ])

  service            = each.key
  disable_on_destroy = false
}

# One service account per function, plus the invoker that Pub/Sub push and Eventarc authenticate as.
resource "google_service_account" "kiln" {
  for_each = toset(keys(local.access))

  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "Kiln ${each.key}"
  description  = each.key == "invoker" ? "Pub/Sub push and Eventarc deliveries to the Kiln stages" : "Runs the Kiln ${each.key} stage"

  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "kiln" {
  for_each = local.project_grants

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.kiln[each.value.sa].email}"
}

resource "google_storage_bucket_iam_member" "kiln" {
  for_each = local.bucket_grants

  bucket = local.bucket_names[each.value.bucket]
  role   = each.value.role
  member = "serviceAccount:${google_service_account.kiln[each.value.sa].email}"
}

resource "google_pubsub_topic_iam_member" "kiln" {
  for_each = local.topic_grants

  topic  = local.topic_ids[each.value.topic]
  role   = each.value.role
  member = "serviceAccount:${google_service_account.kiln[each.value.sa].email}"
}

resource "google_cloud_run_v2_service_iam_member" "kiln" {
  for_each = local.service_grants

  location = var.region
  name     = local.service_names[each.value.service]
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.kiln[each.value.sa].email}"
}

# Platform service agents. Pub/Sub mints the OIDC tokens of push deliveries as the invoker.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  service_account_id = google_service_account.kiln["invoker"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Cloud Storage publishes the finalize events Eventarc delivers to ingest.
data "google_storage_project_service_account" "gcs" {
  depends_on = [google_project_service.apis]
}

resource "google_project_iam_member" "gcs_pubsub_publisher" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = local.storage_service_agent
}
