# The cloud_run shape: the same image as on the VM, on Cloud Run, inside the free tier by default
# (one instance at most, 512 MiB, CPU only while a request runs).

locals {
  # Redis: by default a sidecar container in the same instance, not Memorystore. The app keeps
  # only cache entries and rate-limit counters there (backend/src), which may be lost on a
  # restart as they are on the VM; with at most one instance a per-instance Redis is still the
  # one Redis. The smallest Memorystore (Basic, 1 GB) costs about 36 USD a month, five times the
  # database; the sidecar costs nothing beyond its share of the instance's memory.
  redis_sidecar    = local.cloud_run_enabled && var.cloud_run_redis == "sidecar"
  redis_memory_mib = 64
  app_memory_mib   = var.cloud_run_memory_mib - (local.redis_sidecar ? local.redis_memory_mib : 0)
  redis_url        = local.redis_sidecar ? "redis://127.0.0.1:6379" : one([for r in google_redis_instance.main : "redis://${r.host}:${r.port}"])
}

resource "google_service_account" "run" {
  count        = local.cloud_run_count
  account_id   = "${local.name}-run"
  display_name = "e2-micro Cloud Run service (${var.environment})"
  description  = "Identity of the Cloud Run service: reads the app's secrets and nothing else."
}

# Where deploys push the image; Cloud Run pulls from it with Google's own service agent.
resource "google_artifact_registry_repository" "main" {
  # A Cloud KMS key is billed per key version and month; the images are not secret.
  #checkov:skip=CKV_GCP_84:Images hold no secrets; Google-managed encryption at rest applies and a KMS key costs money every month.
  count         = local.cloud_run_count
  location      = var.region
  repository_id = local.name
  description   = "Backend images of ${local.name}"
  format        = "DOCKER"
  # Keep the storage inside the free 0.5 GB: the last few releases, which rollback can reach.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-recent-releases"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
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
  labels     = local.labels
  depends_on = [google_project_service.cloud_run]
}

resource "google_cloud_run_v2_service" "main" {
  count    = local.cloud_run_count
  name     = local.name
  location = var.region
  ingress  = "INGRESS_TRAFFIC_ALL"
  # Stateless: everything it holds is the image and this configuration, so it may be recreated.
  deletion_protection = false

  template {
    service_account = google_service_account.run[0].email
    timeout         = "30s"
    # The first-generation environment: smaller cold starts, and fractional CPUs per container.
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN1"
    max_instance_request_concurrency = 80

    scaling {
      min_instance_count = 0
      max_instance_count = var.cloud_run_max_instance_count
    }

    # Direct VPC egress to Cloud SQL's (and Memorystore's) private IP: no Serverless VPC Access
    # connector, whose own VMs are billed around the clock.
    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = google_compute_network.main.id
        subnetwork = google_compute_subnetwork.main.id
      }
    }

    containers {
      name  = "app"
      image = var.cloud_run_image
      # Cloud Run sets PORT to this; the app listens on $PORT (backend/src/config.ts).
      ports {
        container_port = 8080
      }
      resources {
        limits = {
          cpu    = local.redis_sidecar ? "0.75" : "1"
          memory = "${local.app_memory_mib}Mi"
        }
        # Request-based billing: CPU only while a request is being handled.
        cpu_idle          = true
        startup_cpu_boost = false
      }

      env {
        name  = "APP_ENV"
        value = var.environment
      }
      env {
        name  = "REDIS_URL"
        value = local.redis_url
      }
      env {
        # Cloud Run's front end sets X-Forwarded-For; the rate limit keys on the client's address.
        name  = "TRUST_PROXY"
        value = "true"
      }
      dynamic "env" {
        for_each = google_secret_manager_secret.app
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret_id
              version = "latest"
            }
          }
        }
      }

      # /readyz answers 200 once MySQL and Redis answer; /healthz while the process lives.
      startup_probe {
        http_get {
          path = "/readyz"
        }
        period_seconds    = 3
        timeout_seconds   = 2
        failure_threshold = 20
      }
      liveness_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 30
        timeout_seconds   = 3
        failure_threshold = 3
      }

      depends_on = local.redis_sidecar ? ["redis"] : []
    }

    dynamic "containers" {
      for_each = local.redis_sidecar ? [1] : []
      content {
        name  = "redis"
        image = var.redis_sidecar_image
        # A cache, not a store: no persistence, evict the least recently used keys when full,
        # loopback only (containers of one instance share it).
        args = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--maxmemory", "${local.redis_memory_mib - 16}mb", "--maxmemory-policy", "allkeys-lru"]
        resources {
          limits = {
            cpu    = "0.25"
            memory = "${local.redis_memory_mib}Mi"
          }
          cpu_idle = true
        }
        startup_probe {
          tcp_socket {
            port = 6379
          }
          period_seconds    = 1
          failure_threshold = 10
        }
      }
    }

    labels = local.labels
  }

  # Deploys (scripts/deploy.mjs) change the image, the revision name and the traffic split;
  # Terraform owns everything else and must not roll a deploy back on its next apply.
  lifecycle {
    ignore_changes = [
      template[0].containers[0].image,
      template[0].revision,
      template[0].labels,
      traffic,
      client,
      client_version,
    ]
  }

  depends_on = [
    google_project_service.cloud_run,
    google_secret_manager_secret_iam_member.run,
  ]
}

# A public API: anyone may invoke it, like the VM's port 443; the app does its own authorisation.
resource "google_cloud_run_v2_service_iam_member" "public" {
  count    = local.cloud_run_count
  name     = google_cloud_run_v2_service.main[0].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The domain moves from the VM's A record to Cloud Run's managed certificate. Needs the domain
# verified for the project first (README: Growth path); the certificate is issued once DNS points here.
resource "google_cloud_run_domain_mapping" "main" {
  count    = local.cloud_run_count
  name     = var.domain
  location = var.region
  metadata {
    namespace = var.project_id
    labels    = local.labels
  }
  spec {
    route_name = google_cloud_run_v2_service.main[0].name
  }
}

# Memorystore, only when chosen over the sidecar (cloud_run_redis = memorystore, a paid choice).
resource "google_redis_instance" "main" {
  count          = local.cloud_run_enabled && var.cloud_run_redis == "memorystore" ? 1 : 0
  name           = local.name
  region         = var.region
  tier           = "BASIC"
  memory_size_gb = 1
  redis_version  = "REDIS_7_2"
  connect_mode   = "PRIVATE_SERVICE_ACCESS"
  # Reached only from inside the VPC. AUTH would put its password in Terraform's state and the
  # app's REDIS_URL; transit encryption needs a CA bundle the app's redis:// URL cannot carry.
  #checkov:skip=CKV_GCP_95:AUTH string would land in Terraform state; the instance is reachable only over private services access.
  #checkov:skip=CKV_GCP_97:The app's redis:// URL has no TLS; traffic stays inside the VPC.
  authorized_network = google_compute_network.main.id
  labels             = local.labels
  depends_on         = [google_service_networking_connection.private_services]
}

# Migrations, as on the VM, run from the new image before it serves: `npm run deploy` points
# this job at the image and runs it (`migrate`), then updates the service. It runs only then,
# so it bills a few vCPU-seconds a deploy, inside the same free allowance as the service.
resource "google_cloud_run_v2_job" "migrate" {
  count               = local.cloud_run_count
  name                = "${local.name}-migrate"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1
    template {
      service_account       = google_service_account.run[0].email
      timeout               = "300s"
      max_retries           = 0
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"

      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = google_compute_network.main.id
          subnetwork = google_compute_subnetwork.main.id
        }
      }

      containers {
        image = var.cloud_run_image
        args  = ["migrate"]
        resources {
          limits = {
            cpu    = "1"
            memory = "512Mi"
          }
        }
        env {
          name  = "APP_ENV"
          value = var.environment
        }
        env {
          # Required by the configuration; `migrate` itself never connects to Redis.
          name  = "REDIS_URL"
          value = local.redis_url
        }
        dynamic "env" {
          for_each = google_secret_manager_secret.app
          content {
            name = env.key
            value_source {
              secret_key_ref {
                secret  = env.value.secret_id
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [template[0].template[0].containers[0].image, client, client_version]
  }

  depends_on = [
    google_project_service.cloud_run,
    google_secret_manager_secret_iam_member.run,
  ]
}
