resource "google_monitoring_notification_channel" "email" {
  display_name = "${local.name} on-call email"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
  user_labels = local.labels
}

resource "google_monitoring_uptime_check_config" "main" {
  display_name = "${local.name} /healthz"
  # 5 minutes from the default checker regions stays far inside the free uptime-check allowance.
  period  = "300s"
  timeout = "10s"

  http_check {
    path         = "/healthz"
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.domain
    }
  }

  user_labels = local.labels
}

# The alert policy was created without count before enable_alert_policy: keep it where it is.
moved {
  from = google_monitoring_alert_policy.main
  to   = google_monitoring_alert_policy.main[0]
}

# Alerting is charged per condition (terraform/prices.json); the uptime check above is not.
resource "google_monitoring_alert_policy" "main" {
  count        = var.enable_alert_policy ? 1 : 0
  display_name = "${local.name} /healthz failing"
  combiner     = "OR"

  conditions {
    display_name = "Uptime check ${google_monitoring_uptime_check_config.main.display_name} failing"
    condition_threshold {
      filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.label.check_id=\"${google_monitoring_uptime_check_config.main.uptime_check_id}\" AND resource.type=\"uptime_url\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "600s"
      aggregations {
        alignment_period     = "1200s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.*"]
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]

  documentation {
    content   = "https://${var.domain}/healthz has failed from more than one checker region for 10 minutes. Start with `npm run incident` (see the root README)."
    mime_type = "text/markdown"
  }

  user_labels = local.labels
}
