variable "project_id" {
  description = "Google Cloud project to deploy Kiln into."
  type        = string

  validation {
    # The same rule shared/pipeline/config.ts applies to KILN_PROJECT_ID.
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the buckets, functions, Cloud Run service, Eventarc trigger and Artifact Registry repository."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west4."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region such as us-central1 or a multi-region: nam5, eur3). Cannot change once created."
  type        = string
  default     = "nam5"

  validation {
    condition     = can(regex("^([a-z]+-[a-z]+[0-9]|nam5|eur3)$", var.firestore_location))
    error_message = "firestore_location must be a region (us-central1) or nam5 / eur3."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, topics, service accounts). Bucket names add the project id to stay globally unique."
  type        = string
  default     = "kiln"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.name_prefix))
    error_message = "name_prefix must be 2-12 lowercase letters, digits or hyphens, starting with a letter (service account ids are limited to 30 characters)."
  }
}

variable "uploads_bucket" {
  description = "Name of the uploads bucket. Empty: <project_id>-<name_prefix>-uploads."
  type        = string
  default     = ""

  validation {
    condition     = var.uploads_bucket == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.uploads_bucket))
    error_message = "uploads_bucket must be a valid bucket name (3-63 lowercase letters, digits, . _ -) or empty."
  }
}

variable "artifacts_bucket" {
  description = "Name of the artifacts bucket (must differ from the uploads bucket). Empty: <project_id>-<name_prefix>-artifacts."
  type        = string
  default     = ""

  validation {
    condition     = var.artifacts_bucket == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.artifacts_bucket))
    error_message = "artifacts_bucket must be a valid bucket name (3-63 lowercase letters, digits, . _ -) or empty."
  }
}

variable "uploads_retention_days" {
  description = "Delete uploads this many days after they were written (0 keeps them). Kiln itself never deletes uploads."
  type        = number
  default     = 30

  validation {
    condition     = var.uploads_retention_days >= 0 && floor(var.uploads_retention_days) == var.uploads_retention_days
    error_message = "uploads_retention_days must be a whole number >= 0."
  }
}

variable "artifacts_retention_days" {
  description = "Delete build artifacts this many days after they were written (0 keeps them)."
  type        = number
  default     = 0

  validation {
    condition     = var.artifacts_retention_days >= 0 && floor(var.artifacts_retention_days) == var.artifacts_retention_days
    error_message = "artifacts_retention_days must be a whole number >= 0."
  }
}

variable "temporary_prefix" {
  description = "Uploads under this prefix (the smoke test's) and their artifacts are temporary: deleted after temporary_retention_days."
  type        = string
  default     = "smoke"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,40}$", var.temporary_prefix))
    error_message = "temporary_prefix must be 1-41 lowercase letters, digits, _ or -."
  }
}

variable "temporary_retention_days" {
  description = "Age in days at which temporary objects (smoke-test uploads and artifacts, old function sources) are deleted."
  type        = number
  default     = 1

  validation {
    condition     = var.temporary_retention_days >= 1 && floor(var.temporary_retention_days) == var.temporary_retention_days
    error_message = "temporary_retention_days must be a whole number >= 1."
  }
}

variable "compile_image" {
  description = "Container image of the compile stage (deploy/compile/Dockerfile), e.g. us-central1-docker.pkg.dev/PROJECT/kiln/compile:TAG. Cloud Build passes the image it just pushed."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/[^/]+/[^/]+/[^:@]+[:@].+$", var.compile_image))
    error_message = "compile_image must be an Artifact Registry image reference with a tag or digest: REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG."
  }
}

variable "functions_source_dir" {
  description = "Directory with the built functions source (npm run bundle). Relative paths are relative to terraform/."
  type        = string
  default     = "../dist/functions"
}

variable "max_upload_bytes" {
  description = "KILN_MAX_UPLOAD_BYTES: largest upload (single file or whole folder) a build accepts."
  type        = number
  default     = 536870912

  validation {
    condition     = var.max_upload_bytes >= 1 && floor(var.max_upload_bytes) == var.max_upload_bytes
    error_message = "max_upload_bytes must be a whole number >= 1."
  }
}

variable "max_parameters" {
  description = "KILN_MAX_PARAMETERS: most model parameters a build accepts (larger models fail with a clear error)."
  type        = number
  default     = 200000000

  validation {
    condition     = var.max_parameters >= 1 && floor(var.max_parameters) == var.max_parameters
    error_message = "max_parameters must be a whole number >= 1."
  }
}

variable "max_calibration_images" {
  description = "KILN_MAX_CALIBRATION_IMAGES: most calibration images (upload files or quantize.samples) one build may use."
  type        = number
  default     = 10000

  validation {
    condition     = var.max_calibration_images >= 1 && floor(var.max_calibration_images) == var.max_calibration_images
    error_message = "max_calibration_images must be a whole number >= 1."
  }
}

variable "calibration_threads" {
  description = "KILN_CALIBRATION_THREADS: threads the quantize stage calibrates on (0 = one per CPU of the instance); the result is the same for any count."
  type        = number
  default     = 0

  validation {
    condition     = var.calibration_threads >= 0 && var.calibration_threads <= 256 && floor(var.calibration_threads) == var.calibration_threads
    error_message = "calibration_threads must be a whole number from 0 to 256 (shared/pipeline/config.ts)."
  }
}

variable "max_attempts" {
  description = "KILN_MAX_ATTEMPTS: attempts per unit of work for retryable errors (1-20). Dead-lettering starts after max(5, max_attempts + 2) deliveries."
  type        = number
  default     = 3

  validation {
    condition     = var.max_attempts >= 1 && var.max_attempts <= 20 && floor(var.max_attempts) == var.max_attempts
    error_message = "max_attempts must be a whole number from 1 to 20 (shared/pipeline/config.ts)."
  }
}

variable "max_fanout" {
  description = "KILN_MAX_FANOUT: most compile targets / verify shards per build (1-64)."
  type        = number
  default     = 8

  validation {
    condition     = var.max_fanout >= 1 && var.max_fanout <= 64 && floor(var.max_fanout) == var.max_fanout
    error_message = "max_fanout must be a whole number from 1 to 64 (shared/pipeline/config.ts)."
  }
}

variable "registry_keep_images" {
  description = "Compile images Artifact Registry keeps (the newest); older ones are deleted by a cleanup policy."
  type        = number
  default     = 5

  validation {
    condition     = var.registry_keep_images >= 1 && floor(var.registry_keep_images) == var.registry_keep_images
    error_message = "registry_keep_images must be a whole number >= 1."
  }
}

variable "deletion_protection" {
  description = "Protect the Firestore database, the buckets' contents and the compile service from terraform destroy."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = { app = "kiln" }

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "Label keys must start with a lowercase letter; keys and values may hold lowercase letters, digits, _ and - (at most 63 characters)."
  }
}
