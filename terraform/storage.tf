# Buckets: uniform bucket-level access, public access prevention enforced, lifecycle rules for temporary objects.

resource "google_storage_bucket" "uploads" {
  name                        = local.uploads_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  # Smoke-test uploads are temporary.
  lifecycle_rule {
    condition {
      age            = var.temporary_retention_days
      matches_prefix = ["${var.temporary_prefix}/"]
    }
    action {
      type = "Delete"
    }
  }

  # Multipart uploads that never completed.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.uploads_retention_days > 0 ? [var.uploads_retention_days] : []
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "artifacts" {
  name                        = local.artifacts_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  # Artifacts of smoke-test builds: their model id is the upload path with "/" turned into "-" (shared/pipeline/ids.ts).
  lifecycle_rule {
    condition {
      age            = var.temporary_retention_days
      matches_prefix = ["${var.temporary_prefix}-"]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.artifacts_retention_days > 0 ? [var.artifacts_retention_days] : []
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  depends_on = [google_project_service.apis]
}

# Zipped functions source for Cloud Functions builds; only the deployed one is needed, so each is temporary (a
# function keeps its built image; terraform uploads the source again if it is gone).
resource "google_storage_bucket" "sources" {
  name                        = local.sources_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

data "archive_file" "functions" {
  type        = "zip"
  source_dir  = abspath(startswith(var.functions_source_dir, "/") ? var.functions_source_dir : "${path.module}/${var.functions_source_dir}")
  output_path = "${path.module}/.build/functions.zip"
}

resource "google_storage_bucket_object" "functions" {
  # The content hash in the name makes a changed source redeploy every function.
  name   = "functions-${data.archive_file.functions.output_sha256}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.functions.output_path
}
