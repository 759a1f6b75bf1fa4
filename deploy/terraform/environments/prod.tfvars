# prod: terraform plan -var-file=environments/prod.tfvars
# (after terraform init -backend-config=environments/prod.s3.tfbackend).
environment        = "prod"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.0.0.0/16"
single_nat_gateway = false

kubernetes_version                   = "1.32"
cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
node_instance_types                  = ["m6i.xlarge"]
node_min_size                        = 3
node_max_size                        = 12
node_desired_size                    = 3

db_instance_class        = "db.r6g.large"
db_allocated_storage     = 100
db_multi_az              = true
db_backup_retention_days = 14
db_deletion_protection   = true

redis_node_type  = "cache.r6g.large"
redis_replicas   = 2
mq_instance_type = "mq.m5.large"
mq_cluster       = true

mail_domain = "shop.example.com"
hostname    = "shop.example.com"

github_repository           = "example/emporium"
create_github_oidc_provider = true
