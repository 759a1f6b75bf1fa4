# Redis 7 on ElastiCache in the data subnets, reachable only from the EKS
# nodes, encrypted at rest. In-transit encryption and AUTH are off because
# Emporium's Redis client speaks plain redis:// only (docs/deploy.md); the
# security group and the NetworkPolicy are the boundary. Holds only the
# product cache: losing it costs a cold cache, no data.

variable "name" {
  description = "Replication group id prefix."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Data subnets."
  type        = list(string)
}

variable "client_security_group" {
  description = "The only security group allowed to connect (the EKS nodes')."
  type        = string
}

variable "node_type" {
  description = "Node type."
  type        = string
}

variable "replicas" {
  description = "Replicas beside the primary; 1 or more turns on automatic failover and Multi-AZ."
  type        = number
}

variable "kms_key_arn" {
  description = "KMS key for data at rest."
  type        = string
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis from the EKS nodes only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "Redis from the EKS nodes"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [var.client_security_group]
  }
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "Emporium product cache"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.node_type
  port                 = 6379
  num_cache_clusters   = 1 + var.replicas

  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = false

  snapshot_retention_limit = 1
  maintenance_window       = "sun:04:30-sun:05:30"
}

output "primary_endpoint" {
  description = "Primary endpoint host name."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}
