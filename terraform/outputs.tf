output "uploads_bucket" {
  description = "Upload models here (gs://<bucket>/<name>.tflite, config <name>.kiln.json first; docs/pipeline.md)."
  value       = google_storage_bucket.uploads.name
}

output "artifacts_bucket" {
  description = "Build outputs: gs://<bucket>/<modelId>/<buildId>/<artifact>."
  value       = google_storage_bucket.artifacts.name
}

output "events_topic" {
  description = "Pub/Sub topic of the build CloudEvents (docs/events.md); subscribe to it."
  value       = google_pubsub_topic.events.name
}

output "stage_topics" {
  description = "Stage topic per stage."
  value       = { for stage, t in google_pubsub_topic.stage : stage => t.name }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding the messages no stage could take, per stage."
  value       = { for stage, s in google_pubsub_subscription.dead_letter : stage => s.name }
}

output "function_urls" {
  description = "Internal-only URL of every function and of the compile service."
  value       = merge(local.stage_urls, { ingest = google_cloudfunctions2_function.ingest.service_config[0].uri })
}

output "service_accounts" {
  description = "Service account email per function (and the invoker)."
  value       = { for name, sa in google_service_account.kiln : name => sa.email }
}

output "compile_image" {
  description = "Image the compile service runs."
  value       = var.compile_image
}

output "artifact_registry" {
  description = "Docker repository for the compile image."
  value       = "${google_artifact_registry_repository.kiln.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.kiln.repository_id}"
}

output "firestore_database" {
  description = "Firestore database with the build index (models/{modelId}/builds/{buildId})."
  value       = google_firestore_database.kiln.name
}

output "pipeline_env" {
  description = "The KILN_* environment of the deployment, for running kiln tools against it."
  value       = local.pipeline_env
}
