variable "project_id" {
  description = "GCP project that holds this environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name; the only thing besides values that tells dev, staging and prod apart."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of: dev, staging, prod."
  }
}

variable "allow_paid_resources" {
  description = "Lift the free-tier guardrails (machine type, region, disk). Leave false unless you mean to pay."
  type        = bool
  default     = false
}

variable "region" {
  description = "Region for the VM, subnet, address and buckets."
  type        = string
  default     = "us-central1"

  validation {
    condition     = var.allow_paid_resources || contains(["us-west1", "us-central1", "us-east1"], var.region)
    error_message = "region must be us-west1, us-central1 or us-east1: only these regions include the Always Free e2-micro and 30 GB of standard disk. Set allow_paid_resources = true to use another region and pay for it."
  }
}

variable "zone" {
  description = "Zone for the VM; null picks <region>-b."
  type        = string
  default     = null

  validation {
    condition     = var.zone == null || startswith(coalesce(var.zone, "-"), "${var.region}-")
    error_message = "zone must be a zone of the chosen region (for example us-central1-b), or null."
  }
}

variable "machine_type" {
  description = "Machine type of the VM."
  type        = string
  default     = "e2-micro"

  validation {
    condition     = var.allow_paid_resources || var.machine_type == "e2-micro"
    error_message = "machine_type must be e2-micro: it is the only machine type in Google's Always Free tier (one per billing account). Set allow_paid_resources = true to use another type and pay for it."
  }
}

variable "boot_disk_type" {
  description = "Boot disk type."
  type        = string
  default     = "pd-standard"

  validation {
    condition     = var.allow_paid_resources || var.boot_disk_type == "pd-standard"
    error_message = "boot_disk_type must be pd-standard: the free tier covers 30 GB-month of standard persistent disk only (pd-balanced and pd-ssd are billed). Set allow_paid_resources = true to use another type and pay for it."
  }
}

variable "boot_disk_size_gb" {
  description = "Boot disk size in GB."
  type        = number
  default     = 30

  validation {
    condition     = var.boot_disk_size_gb >= 10 && (var.allow_paid_resources || var.boot_disk_size_gb <= 30)
    error_message = "boot_disk_size_gb must be between 10 (the Debian image's size) and 30: the free tier covers 30 GB-month of standard persistent disk per billing account. Set allow_paid_resources = true to go above 30 GB and pay for it."
  }
}

variable "boot_image" {
  description = "Boot image (family or image path)."
  type        = string
  default     = "debian-cloud/debian-12"
}

variable "name_prefix" {
  description = "Prefix of every resource name; the environment is appended."
  type        = string
  default     = "e2m"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,11}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 12 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "subnet_cidr" {
  description = "Primary IPv4 range of the subnet."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be an IPv4 CIDR block such as 10.10.0.0/24."
  }
}

variable "ssh_source_ranges" {
  description = "CIDRs allowed to reach port 22. The default is Google's IAP TCP forwarding range, so SSH goes through `gcloud compute ssh --tunnel-through-iap`."
  type        = list(string)
  default     = ["35.235.240.0/20"]

  validation {
    condition     = length(var.ssh_source_ranges) > 0 && alltrue([for c in var.ssh_source_ranges : can(cidrhost(c, 0))])
    error_message = "ssh_source_ranges must be a non-empty list of CIDR blocks (default: Google's IAP range 35.235.240.0/20)."
  }

  validation {
    condition     = !contains(var.ssh_source_ranges, "0.0.0.0/0") && !contains(var.ssh_source_ranges, "::/0")
    error_message = "ssh_source_ranges must not contain 0.0.0.0/0 or ::/0: SSH open to the whole internet is refused. Use IAP (35.235.240.0/20) or your own address/32."
  }
}

variable "admin_user" {
  description = "Admin (deploy) user created on the VM from the metadata SSH key; Ansible connects as this user."
  type        = string
  default     = "ops"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_-]{0,31}$", var.admin_user)) && var.admin_user != "root"
    error_message = "admin_user must be a Linux user name (lowercase, up to 32 characters) and not root."
  }
}

variable "admin_ssh_public_key" {
  description = "OpenSSH public key of the admin user (one line, e.g. the content of ~/.ssh/e2m_ed25519.pub)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+", trimspace(var.admin_ssh_public_key)))
    error_message = "admin_ssh_public_key must be one OpenSSH public key line starting with ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa."
  }
}

variable "domain" {
  description = "Public DNS name of the backend (an A record pointing at the external_ip output); used for TLS (ACME) and the uptime check."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain must be a lowercase DNS name such as api.example.com."
  }
}

variable "alert_email" {
  description = "Email address that receives uptime alerts."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "backup_bucket_name" {
  description = "Name of the backups bucket; null derives <project_id>-<name_prefix>-<environment>-backups."
  type        = string
  default     = null
}

variable "backup_retention_days" {
  description = "Days after which a backup object is deleted by the bucket's lifecycle rule."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 3650
    error_message = "backup_retention_days must be between 1 and 3650."
  }
}

variable "backup_retention_policy_days" {
  description = "Days no one can delete or replace a backup: the bucket's retention policy (GCS enforces it against the VM, the operator and `npm run backup -- prune` alike). 0 turns the policy off and versioning on instead (GCS allows only one of the two). Must be shorter than backup_retention_days, which the lifecycle rule deletes at."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_policy_days >= 0 && var.backup_retention_policy_days < var.backup_retention_days
    error_message = "backup_retention_policy_days must be between 0 (no retention policy) and backup_retention_days - 1: the lifecycle rule cannot delete a backup the policy still protects."
  }
}

variable "lock_backup_retention_policy" {
  description = "Lock the backups bucket's retention policy. Irreversible: once applied, no one (not even the project owner) can remove the policy or shorten it, and the bucket cannot be deleted until every object in it is older than the policy. Leave false until the period is the one you want for good."
  type        = bool
  default     = false
}

variable "backup_noncurrent_retention_days" {
  description = "Days a replaced (noncurrent) backup version is kept before deletion."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_noncurrent_retention_days >= 1
    error_message = "backup_noncurrent_retention_days must be at least 1."
  }
}

variable "enable_snapshots" {
  description = "Take a daily snapshot of the boot disk. Snapshot storage is not in the free tier: about 0.05 USD per GB-month of snapshot data, at most the disk's 30 GB for the first snapshot plus the daily changes (npm run infra:cost prices it). The nightly database backups to the bucket do not depend on it."
  type        = bool
  default     = false
}

variable "enable_alert_policy" {
  description = "Email alert_email when /healthz fails (one alerting condition, 1.50 USD a month). With false the uptime check still runs inside its free allowance and its result shows in the console, but nobody is told when the site goes down."
  type        = bool
  default     = true
}

variable "snapshot_retention_days" {
  description = "Days a scheduled snapshot is kept."
  type        = number
  default     = 3

  validation {
    condition     = var.snapshot_retention_days >= 1 && (var.allow_paid_resources || var.snapshot_retention_days <= 7)
    error_message = "snapshot_retention_days must be between 1 and 7: every day kept adds that day's changed blocks to the billed snapshot storage. Set allow_paid_resources = true for longer retention."
  }
}

variable "labels" {
  description = "Extra labels for every resource (app, environment and managed_by are always set)."
  type        = map(string)
  default     = {}
}

# --- Platform: the one e2-micro, or the growth path (Cloud Run + Cloud SQL) ------------------

variable "platform" {
  description = "Shape of the stack: vm (one Always Free e2-micro runs everything) or cloud_run (the same image on Cloud Run, MySQL on Cloud SQL, secrets in Secret Manager). The backups bucket, network and monitoring exist in both."
  type        = string
  default     = "vm"

  validation {
    condition     = contains(["vm", "cloud_run"], var.platform)
    error_message = "platform must be vm or cloud_run."
  }
}

variable "keep_vm" {
  description = "Keep the VM while platform = cloud_run: the migration window, in which the VM dumps its database to the backups bucket and imports it into Cloud SQL over the VPC (README: Growth path). Set it back to false once traffic has moved."
  type        = bool
  default     = false
}

variable "cloud_run_image" {
  description = "Image the Cloud Run service starts with (a registry reference, e.g. us-central1-docker.pkg.dev/PROJECT/e2m-prod/backend:1.2.3). Later deploys change it with `npm run deploy`, which Terraform then leaves alone. Required when platform = cloud_run."
  type        = string
  default     = null

  validation {
    condition     = var.platform != "cloud_run" || can(regex("^([a-z0-9-]+\\.)+[a-z0-9-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$", coalesce(var.cloud_run_image, "-")))
    error_message = "cloud_run_image must be a registry image reference with a tag or digest (for example us-central1-docker.pkg.dev/my-project/e2m-prod/backend:1.2.3) when platform = cloud_run."
  }
}

variable "cloud_run_max_instance_count" {
  description = "Most Cloud Run instances at once. One instance with request-based billing stays inside the free 180,000 vCPU-seconds and 360,000 GiB-seconds a month for a small app."
  type        = number
  default     = 1

  validation {
    condition     = var.cloud_run_max_instance_count >= 1 && (var.allow_paid_resources || var.cloud_run_max_instance_count <= 1)
    error_message = "cloud_run_max_instance_count must be 1: more instances multiply the billed vCPU- and GiB-seconds past the Cloud Run free tier. Set allow_paid_resources = true to allow more and pay for them."
  }
}

variable "cloud_run_memory_mib" {
  description = "Memory of one Cloud Run instance in MiB, shared by the app and the Redis sidecar."
  type        = number
  default     = 512

  validation {
    condition     = var.cloud_run_memory_mib >= 256 && (var.allow_paid_resources || var.cloud_run_memory_mib <= 512)
    error_message = "cloud_run_memory_mib must be between 256 and 512: 512 MiB keeps one busy instance near the free 360,000 GiB-seconds a month. Set allow_paid_resources = true to go above 512 and pay for it."
  }
}

variable "cloud_run_redis" {
  description = "Where Redis runs in the cloud_run shape: sidecar (a redis container next to the app in the same instance: free, its data lives as long as the instance) or memorystore (a managed 1 GB Basic instance, about 36 USD a month)."
  type        = string
  default     = "sidecar"

  validation {
    condition     = contains(["sidecar", "memorystore"], var.cloud_run_redis)
    error_message = "cloud_run_redis must be sidecar or memorystore."
  }

  validation {
    condition     = var.allow_paid_resources || var.cloud_run_redis == "sidecar"
    error_message = "cloud_run_redis = memorystore costs about 36 USD a month (the smallest Basic instance); the app keeps only cache entries and rate-limit counters in Redis, which the free sidecar holds as well. Set allow_paid_resources = true to use Memorystore and pay for it."
  }
}

variable "redis_sidecar_image" {
  description = "Image of the Redis sidecar (cloud_run_redis = sidecar). Pin a digest in a real deployment."
  type        = string
  default     = "docker.io/library/redis:7.4-alpine"
}

variable "enable_sentry_secret" {
  description = "In the cloud_run shape, read SENTRY_DSN from a Secret Manager secret (its value added out of band). Leave false when Sentry is not used."
  type        = bool
  default     = false
}

variable "cloud_sql_tier" {
  description = "Cloud SQL machine tier. db-f1-micro (shared core, 0.6 GB) is the smallest and cheapest; Cloud SQL has no free tier."
  type        = string
  default     = "db-f1-micro"

  validation {
    condition     = var.allow_paid_resources || var.cloud_sql_tier == "db-f1-micro"
    error_message = "cloud_sql_tier must be db-f1-micro, the smallest Cloud SQL tier (about 7.67 USD a month); larger tiers cost several times more. Set allow_paid_resources = true to use another tier and pay for it."
  }
}

variable "cloud_sql_disk_size_gb" {
  description = "Cloud SQL storage in GB (HDD); grows automatically up to four times this."
  type        = number
  default     = 10

  validation {
    condition     = var.cloud_sql_disk_size_gb >= 10 && (var.allow_paid_resources || var.cloud_sql_disk_size_gb <= 10)
    error_message = "cloud_sql_disk_size_gb must be 10 (the minimum Cloud SQL disk) unless allow_paid_resources = true."
  }
}

variable "cloud_sql_backup_retention_count" {
  description = "Automated daily Cloud SQL backups to keep (besides the app's own dumps in the backups bucket)."
  type        = number
  default     = 7

  validation {
    condition     = var.cloud_sql_backup_retention_count >= 1 && var.cloud_sql_backup_retention_count <= 365
    error_message = "cloud_sql_backup_retention_count must be between 1 and 365."
  }
}

variable "enable_cloud_sql_deletion_protection" {
  description = "Refuse to delete the Cloud SQL instance (also on the way back to platform = vm): set false deliberately, after the data is back on the VM."
  type        = bool
  default     = true
}

variable "private_services_cidr_prefix" {
  description = "Prefix length of the range reserved in the VPC for Google's managed services (Cloud SQL, Memorystore) over private services access."
  type        = number
  default     = 24

  validation {
    condition     = var.private_services_cidr_prefix >= 16 && var.private_services_cidr_prefix <= 24
    error_message = "private_services_cidr_prefix must be between 16 and 24 (Cloud SQL needs at least a /24)."
  }
}
