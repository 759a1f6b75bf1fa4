# The Secrets Manager entry emporium/<environment>/app: one JSON object with
# exactly the keys of deploy/k8s/overlays/eks/secrets.env.example, which the
# overlays' ExternalSecret maps into the Secret emporium-secrets.

variable "name" {
  description = "Secret name (emporium/<environment>/app)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secret."
  type        = string
}

variable "database" {
  description = "PostgreSQL connection: host, port, name, username, password."
  type = object({
    host     = string
    port     = number
    name     = string
    username = string
    password = string
  })
  sensitive = true
}

variable "redis_endpoint" {
  description = "ElastiCache primary endpoint host."
  type        = string
}

variable "amqp" {
  description = "Amazon MQ: endpoint (amqps://host:5671), username, password."
  type = object({
    endpoint = string
    username = string
    password = string
  })
  sensitive = true
}

variable "smtp" {
  description = "SES SMTP: host, username, password."
  type = object({
    host     = string
    username = string
    password = string
  })
  sensitive = true
}

resource "random_password" "jwt" {
  length  = 64
  special = false
}

resource "random_password" "admin" {
  length  = 24
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  name                    = var.name
  description             = "Emporium's settings that are secrets (EMPORIUM_*), read by the External Secrets Operator"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
}

locals {
  amqp_host = trimprefix(var.amqp.endpoint, "amqps://")
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    EMPORIUM_JWT_SECRET     = random_password.jwt.result
    EMPORIUM_ADMIN_PASSWORD = random_password.admin.result
    EMPORIUM_DATABASE_URL   = "postgres://${var.database.username}:${urlencode(var.database.password)}@${var.database.host}:${var.database.port}/${var.database.name}?sslmode=require"
    EMPORIUM_REDIS_URL      = "redis://${var.redis_endpoint}:6379/0"
    EMPORIUM_AMQP_URL       = "amqps://${var.amqp.username}:${urlencode(var.amqp.password)}@${local.amqp_host}"
    EMPORIUM_SMTP_URL       = "smtps://${urlencode(var.smtp.username)}:${urlencode(var.smtp.password)}@${var.smtp.host}:465"
  })
}

output "name" {
  description = "The secret's name."
  value       = aws_secretsmanager_secret.app.name
}
