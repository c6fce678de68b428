"""An `echo` worker written with the avtomatika-worker SDK, as its README shows.

Configured by the SDK's own environment variables (ORCHESTRATOR_URL, WORKER_ID, WORKER_TOKEN,
ORCHESTRATOR_SECRET_KEY, WORKER_ENABLE_WEBSOCKETS, ...). The `echo` skill returns its params
as the result data. With `params["progress_message"]` it first reports progress 0.5 with that
message; with `params["delay_seconds"]` it then waits that long (so that a test can cancel a
running task).
"""

import asyncio

from avtomatika_worker import Worker

worker = Worker(worker_type="echo-worker")


@worker.skill("echo")
async def echo(params: dict, task_id: str, job_id: str, send_progress):
    """Returns the task parameters unchanged."""
    message = params.get("progress_message")
    if isinstance(message, str):
        await send_progress(task_id, job_id, 0.5, message)
    delay = params.get("delay_seconds")
    if isinstance(delay, (int, float)) and delay > 0:
        await asyncio.sleep(delay)
    return {"status": "success", "data": params}


if __name__ == "__main__":
    worker.run()
