"""FastAPI server of the Context Encoder inpainting web app (``uvicorn app.main:app``)."""
