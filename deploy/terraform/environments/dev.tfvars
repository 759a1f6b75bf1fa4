# dev: terraform plan -var-file=environments/dev.tfvars
# (after terraform init -backend-config=environments/dev.s3.tfbackend).
environment        = "dev"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.2.0.0/16"
single_nat_gateway = true

kubernetes_version                   = "1.32"
cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
node_instance_types                  = ["t3.large"]
node_min_size                        = 2
node_max_size                        = 4
node_desired_size                    = 2

db_instance_class        = "db.t4g.medium"
db_allocated_storage     = 20
db_multi_az              = false
db_backup_retention_days = 7
db_deletion_protection   = false

redis_node_type  = "cache.t4g.small"
redis_replicas   = 0
mq_instance_type = "mq.t3.micro"
mq_cluster       = false

mail_domain = "dev.shop.example.com"
hostname    = "dev.shop.example.com"

github_repository           = "example/emporium"
create_github_oidc_provider = true
