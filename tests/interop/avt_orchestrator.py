"""An avtomatika orchestrator with one blueprint that sends task type `echo` to a worker.

Built as the avtomatika README's "Usage as a Library" shows: in-memory storage, configuration
from the environment (API_HOST, API_PORT, CLIENT_TOKEN, GLOBAL_WORKER_TOKEN,
ORCHESTRATOR_SECRET_KEY, ...). Jobs are created with
`POST /api/v1/jobs/echo {"initial_data": {...}}` (header `X-Client-Token`); the worker's
`echo` result is merged into the job's `state_history` (shown by `GET /api/v1/jobs/{id}` when
DETAILED_API_RESPONSES=true), and the job ends `finished` (worker status `success`) or `failed`.
The end state is named `finished` because avtomatika reports any other end state as `failed`.
"""

import asyncio

from avtomatika import Blueprint, OrchestratorEngine
from avtomatika.config import Config
from avtomatika.context import ActionFactory
from avtomatika.storage import MemoryStorage

bp = Blueprint(name="echo_flow", api_version="v1", api_endpoint="/jobs/echo")


@bp.handler(is_start=True)
async def start(initial_data: dict, actions: ActionFactory):
    """Sends the job's initial data to an `echo` worker."""
    actions.dispatch_task(
        task_type="echo",
        params=initial_data,
        transitions={"success": "finished", "failure": "failed_step"},
    )


@bp.handler(is_end=True)
async def finished(context):
    """The worker answered `success`."""


@bp.handler(is_end=True)
async def failed_step(context):
    """The worker answered `failure`."""


async def main() -> None:
    engine = OrchestratorEngine(MemoryStorage(), Config())
    engine.register_blueprint(bp)
    await engine.start()
    print("avt_orchestrator: ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await engine.stop()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
