# Amazon SES for the notification service: a DKIM-signed domain identity and
# SMTP credentials of an IAM user that may only send from that domain.

variable "name" {
  description = "Name prefix of the SMTP user."
  type        = string
}

variable "domain" {
  description = "Domain mail is sent from."
  type        = string
}

data "aws_region" "current" {}

resource "aws_sesv2_email_identity" "this" {
  email_identity = var.domain

  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

resource "aws_iam_user" "smtp" {
  name = "${var.name}-ses-smtp"
}

data "aws_iam_policy_document" "send" {
  statement {
    actions   = ["ses:SendRawEmail"]
    resources = [aws_sesv2_email_identity.this.arn]
  }
}

resource "aws_iam_user_policy" "send" {
  name   = "ses-send"
  user   = aws_iam_user.smtp.name
  policy = data.aws_iam_policy_document.send.json
}

# Rotate by tainting it: terraform apply -replace=module.ses.aws_iam_access_key.smtp
resource "aws_iam_access_key" "smtp" {
  user = aws_iam_user.smtp.name
}

output "smtp_host" {
  description = "SES SMTP endpoint of the region (the VPC endpoint answers for it)."
  value       = "email-smtp.${data.aws_region.current.name}.amazonaws.com"
}

output "smtp_username" {
  description = "SMTP user name."
  value       = aws_iam_access_key.smtp.id
}

output "smtp_password" {
  description = "SMTP password (SigV4-derived; goes to Secrets Manager only)."
  value       = aws_iam_access_key.smtp.ses_smtp_password_v4
  sensitive   = true
}

output "dkim_tokens" {
  description = "DKIM tokens to publish as CNAME records."
  value       = aws_sesv2_email_identity.this.dkim_signing_attributes[0].tokens
}
