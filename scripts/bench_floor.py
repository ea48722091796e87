"""The benchmark's floor: the least a Flask app under the same gunicorn settings can do per request."""

from flask import Flask, Response

CONSTANT = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/turn/1" method="POST" '
    'numDigits="1" timeout="7"><Say>Main menu.</Say></Gather><Redirect>/voice/turn/1/silence</Redirect></Response>'
)

app = Flask(__name__)


@app.post("/voice")
@app.post("/voice/turn/<int:number>")
def constant(number: int = 0) -> Response:
    return Response(CONSTANT, mimetype="text/xml")


@app.get("/readyz")
def ready() -> str:
    return "ready"
