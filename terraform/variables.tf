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
  description = "Take a daily snapshot of the boot disk. Snapshots are incremental; keep retention short to stay inside the 5 GB-month free snapshot storage."
  type        = bool
  default     = false
}

variable "snapshot_retention_days" {
  description = "Days a scheduled snapshot is kept."
  type        = number
  default     = 3

  validation {
    condition     = var.snapshot_retention_days >= 1 && (var.allow_paid_resources || var.snapshot_retention_days <= 7)
    error_message = "snapshot_retention_days must be between 1 and 7 to stay near the 5 GB-month free snapshot storage. Set allow_paid_resources = true for longer retention."
  }
}

variable "labels" {
  description = "Extra labels for every resource (app, environment and managed_by are always set)."
  type        = map(string)
  default     = {}
}
