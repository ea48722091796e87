"""The benchmark's floor: the least a Flask app under the same gunicorn settings can do per request.

It answers every webhook with one constant menu whose <Gather action> carries a token as long as
the app's, so a client following tokens walks it as it walks the app, until its keys run out.
"""

from flask import Flask, Response

TOKEN = "AV" + "x" * 110  # about the length of a sealed menu state
CONSTANT = (
    f'<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/turn/{TOKEN}" method="POST" '
    f'numDigits="1" timeout="7"><Say>Main menu.</Say></Gather><Redirect method="POST">/voice/turn/{TOKEN}/silence'
    "</Redirect></Response>"
)

app = Flask(__name__)


@app.post("/voice")
@app.post("/voice/turn/<token>")
@app.post("/voice/turn/<token>/silence")
def constant(token: str = "") -> Response:
    return Response(CONSTANT, mimetype="text/xml")


@app.get("/readyz")
def ready() -> str:
    return "ready"
