"""FastAPI server of the Context Encoder inpainting web app (``uvicorn app.main:app``)."""

# first, before any module of the server imports torch: ``model`` lets idle OpenMP threads sleep
import model  # noqa: F401
