from papermirror.settings import Settings
from papermirror.settings_doc import settings_table


def test_env_values_are_typed():
    s = Settings.from_env(
        {
            "PAPERMIRROR_PORT": "9000",
            "PAPERMIRROR_ARXIV_MIN_INTERVAL": "1.5",
            "PAPERMIRROR_CATEGORIES": "cs.AI, math.GT",
        }
    )
    assert (s.port, s.arxiv_min_interval, s.categories) == (9000, 1.5, ("cs.AI", "math.GT"))


def test_to_env_round_trips():
    s = Settings.from_env({}, contact="a@b.org", categories=("cs.CL",), port=1234)
    assert Settings.from_env(s.to_env()) == s


def test_user_agent_names_contact():
    assert "mailto:me@lab.org" in Settings.from_env({}, contact="me@lab.org").user_agent


def test_every_setting_is_documented():
    assert all(doc for _, _, doc in settings_table())


def test_embedded_redis_answers(redis_client):
    redis_client.set("k", "v")
    assert redis_client.get("k") == b"v"


def test_empty_text_settings_mean_empty_and_empty_numbers_mean_default():
    s = Settings.from_env(
        {"PAPERMIRROR_MATHJAX_URL": "", "PAPERMIRROR_PORT": "", "PAPERMIRROR_CATEGORIES": ""}
    )
    assert (s.mathjax_url, s.port, s.categories) == ("", 8000, ())
