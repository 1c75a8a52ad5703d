from services.order_svc.store import SCHEMA, metadata
from shared.migrations import run_env

run_env(SCHEMA, metadata)
