# prod: same configuration as every environment, only these values differ.
# project_id, admin_ssh_public_key and alert_email are placeholders: replace them (or pass
# -var) before a real plan. The free tier is per billing account: one e2-micro in total, so
# give each environment its own billing account or run only one at a time.
project_id            = "e2m-prod-000000"
environment           = "prod"
region                = "us-central1"
domain                = "api.example.com"
alert_email           = "ops@example.com"
admin_user            = "ops"
admin_ssh_public_key  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderReplaceWithYourOwnKey000000 ops@prod"
backup_retention_days = 30
enable_snapshots      = true
