# RabbitMQ on Amazon MQ in the data subnets, not publicly accessible, AMQPS
# (5671) from the EKS nodes only; a three-node cluster over the zones where
# the environment asks (prod).

variable "name" {
  description = "Broker name."
  type        = string
}

variable "vpc_id" {
  description = "The VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Data subnets (one is used for a single instance)."
  type        = list(string)
}

variable "client_security_group" {
  description = "The only security group allowed to connect (the EKS nodes')."
  type        = string
}

variable "instance_type" {
  description = "Broker instance type."
  type        = string
}

variable "cluster" {
  description = "A three-node cluster instead of a single instance."
  type        = bool
}

resource "aws_security_group" "this" {
  name        = "${var.name}-rabbitmq"
  description = "AMQPS from the EKS nodes only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "AMQPS from the EKS nodes"
    from_port       = 5671
    to_port         = 5671
    protocol        = "tcp"
    security_groups = [var.client_security_group]
  }
}

resource "random_password" "broker" {
  length  = 32
  special = false
}

resource "aws_mq_broker" "this" {
  broker_name                = var.name
  engine_type                = "RabbitMQ"
  engine_version             = "3.13"
  host_instance_type         = var.instance_type
  deployment_mode            = var.cluster ? "CLUSTER_MULTI_AZ" : "SINGLE_INSTANCE"
  publicly_accessible        = false
  subnet_ids                 = var.cluster ? var.subnet_ids : [var.subnet_ids[0]]
  security_groups            = [aws_security_group.this.id]
  auto_minor_version_upgrade = true

  user {
    username = "emporium"
    password = random_password.broker.result
  }

  logs {
    general = true
  }

  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "05:30"
    time_zone   = "UTC"
  }
}

output "amqps_endpoint" {
  description = "amqps://host:5671 of the broker."
  value       = aws_mq_broker.this.instances[0].endpoints[0]
}

output "username" {
  description = "Broker user."
  value       = "emporium"
}

output "password" {
  description = "Broker password (goes to Secrets Manager only)."
  value       = random_password.broker.result
  sensitive   = true
}
