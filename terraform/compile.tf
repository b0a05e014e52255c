# The compile stage on Cloud Run, from the image of deploy/compile/Dockerfile: the functions source plus the real
# edgetpu_compiler (x86-64) from Coral's apt repository, serving the `compile` function through the functions framework.

resource "google_artifact_registry_repository" "kiln" {
  repository_id = var.name_prefix
  location      = var.region
  format        = "DOCKER"
  description   = "Kiln container images (the compile stage)"

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-newest"
    action = "KEEP"

    most_recent_versions {
      keep_count = var.registry_keep_images
    }
  }

  cleanup_policies {
    id     = "delete-older"
    action = "DELETE"

    condition {
      tag_state  = "ANY"
      older_than = "604800s"
    }
  }

  depends_on = [google_project_service.apis]
}

locals {
  compile_env = merge(local.pipeline_env, {
    # shared/toolchain/edgetpu/runner.ts (COMPILER_ENV): where the real compiler is installed in the image.
    KILN_EDGETPU_COMPILER = "/usr/bin/edgetpu_compiler"
  })
}

resource "google_cloud_run_v2_service" "compile" {
  name                = "${var.name_prefix}-compile"
  location            = var.region
  description         = "Kiln compile stage (edgetpu_compiler)"
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.kiln["compile"].email
    timeout                          = "${local.settings.functions["compile"].timeoutS}s"
    max_instance_request_concurrency = 1
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"

    scaling {
      min_instance_count = 0
      max_instance_count = local.settings.functions["compile"].maxInstances
    }

    containers {
      image = var.compile_image
      args  = ["--target=compile", "--signature-type=cloudevent"]

      resources {
        limits = {
          cpu    = tostring(local.settings.functions["compile"].cpu)
          memory = local.settings.functions["compile"].memory
        }
        cpu_idle = true
      }

      dynamic "env" {
        for_each = local.compile_env
        content {
          name  = env.key
          value = env.value
        }
      }

      startup_probe {
        tcp_socket {
          port = 8080
        }
      }
    }
  }

  depends_on = [
    google_project_iam_member.kiln,
    google_artifact_registry_repository.kiln,
  ]
}
