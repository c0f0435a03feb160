"""LangChain's ``ChatOpenAI`` through ``aichat serve``: ``nox -s langchain`` only.

Not a ``test_*.py`` file, so the main suite never collects it (langchain-openai is
not one of its dependencies); the session passes it to pytest by name.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from aichat_adapters.stub import StubServer
from tests.support import KEY, live

PROMPT = "System: Be brief.\nUser: Hi\nAssistant: Hello!\nUser: And you?\nAssistant:"
HISTORY = [
    SystemMessage("Be brief."),
    HumanMessage("Hi"),
    AIMessage("Hello!"),
    HumanMessage("And you?"),
]


def test_chat_openai_invoke_and_stream(stub: StubServer) -> None:
    with live(stub, api_key=KEY) as server:
        chat = ChatOpenAI(
            base_url=server.url, api_key=KEY, model="aichat", max_retries=0, temperature=0.3
        )
        answer = chat.invoke(HISTORY)
        streamed = "".join(str(chunk.content) for chunk in chat.stream(HISTORY))
    assert answer.content == "Echo: " + PROMPT
    assert streamed == "Echo: " + PROMPT
    messages = [r.json["message"] for r in stub.requests if isinstance(r.json, dict)]
    assert messages == [PROMPT, PROMPT]
    assert all(r.json["temperature"] == 0.3 for r in stub.requests if isinstance(r.json, dict))
