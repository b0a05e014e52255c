terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.12.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "2.6.0"
    }
  }

  # State lives in a GCS bucket you create once (docs/deploy.md):
  #   terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "kiln"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}
