"""The rendered searchd config: what the harness runs, the CLI contract, and the text processing it sets up."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from otrs_ext.cli import main
from otrs_ext.search import indexdef
from otrs_ext.search.wordforms import SAME_WORD, WORDFORMS


def test_cli_prints_the_config_the_harness_runs_listening_at_the_search_url(tmp_path, sphinx_server) -> None:
    result = CliRunner().invoke(main, ["search", "config", "--data-dir", str(tmp_path)],
                                env={"OTRS_EXT_SEARCH_URL": "mysql://10.1.2.3:9412"})
    assert result.exit_code == 0, result.output
    assert "= 10.1.2.3:9412:mysql41\n" in result.stdout
    # the same text the test harness started searchd with, but for this directory and address
    expected = indexdef.render_config(base_dir=tmp_path, port=9412, host="10.1.2.3", mem_limit="512M")
    assert result.stdout == expected
    assert (tmp_path / "wordforms.txt").read_text(encoding="utf-8").startswith("домены > домен")
    assert all((tmp_path / d).is_dir() for d in ("data", "log", "binlog"))
    assert sphinx_server.config_file.read_text() == indexdef.render_config(base_dir=sphinx_server.base_dir,
                                                                            port=sphinx_server.port)


def test_old_option_names_still_work(tmp_path) -> None:
    old = CliRunner().invoke(main, ["search", "config", "--flavour", "sphinx2", "--dir", str(tmp_path)])
    new = CliRunner().invoke(main, ["search", "config", "--engine", "sphinx", "--data-dir", str(tmp_path)])
    assert old.exit_code == new.exit_code == 0 and old.stdout == new.stdout


def test_manticore_rendering(tmp_path) -> None:
    text = indexdef.render_config(base_dir=tmp_path, port=9306, flavour="manticore")
    lines = [line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line]
    assert any(line.strip().endswith(":9306:mysql") for line in text.splitlines())
    # Manticore removed these searchd keys; rt_* and text settings are the same syntax as Sphinx 2.2
    assert "workers" not in lines and "read_timeout" not in lines and "network_timeout" in lines
    assert text.count("{") == text.count("}") == 2
    for name in indexdef.FIELDS:
        assert f"rt_field          = {name}" in text
    with pytest.raises(ValueError, match="unknown search engine"):
        indexdef.render_config(base_dir=tmp_path, port=1, flavour="elastic")


def _keywords(sphinx_server, word: str) -> str:
    connection = sphinx_server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CALL KEYWORDS(%s, '{indexdef.INDEX_NAME}')", (word,))
            return "|".join(row[2] for row in cursor.fetchall())
    finally:
        connection.close()


@pytest.mark.parametrize("forms", SAME_WORD, ids=lambda forms: forms[0])
def test_the_forms_of_a_word_are_one_keyword(sphinx_server, forms: tuple[str, ...]) -> None:
    stems = {form: _keywords(sphinx_server, form) for form in forms}
    assert len(set(stems.values())) == 1, stems


def test_overstemmed_words_no_longer_collide(sphinx_server) -> None:
    assert _keywords(sphinx_server, "домены") != _keywords(sphinx_server, "дом")
    assert _keywords(sphinx_server, "ёлка") == _keywords(sphinx_server, "ЕЛКА") == "елк"
    assert set(WORDFORMS) >= {"домены", "домена"}
