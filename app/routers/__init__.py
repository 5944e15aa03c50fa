"""The HTTP routes, one router per audience: the editor page, the inpainting API, the
service endpoints for operators."""
