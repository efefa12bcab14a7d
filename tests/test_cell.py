"""Unit tests of the cell parser (``aliyun_video_magics.cell``): cell text -> ParsedCell.

The syntax under test is issue 2, "Cell syntax": options on the magic line and on ``--`` lines
at the top of the body (shell quoting), the prompt kept verbatim, ``\\--`` to start a prompt
line with ``--``, ``---`` between Kling storyboard shots, and every API field name accepted
in snake_case and kebab-case.
"""

from __future__ import annotations

import pytest

from aliyun_video_magics.cell import OPTIONS, ParsedCell, parse_cell, usage_text
from aliyun_video_magics.errors import VideoUsageError

# ---------------------------------------------------------------------------------------
# Where options come from


def test_options_on_the_magic_line():
    parsed = parse_cell("--duration 5 --resolution 720P --model q3-pro", "A cat runs")
    assert parsed.options == {"duration": 5, "resolution": "720P", "model": "q3-pro"}
    assert parsed.prompt == "A cat runs"
    assert parsed.shots == []


def test_options_on_lines_at_the_top_of_the_body():
    body = "--duration 5\n--resolution 720P --seed 7\nA cat runs"
    parsed = parse_cell("", body)
    assert parsed.options == {"duration": 5, "resolution": "720P", "seed": 7}
    assert parsed.prompt == "A cat runs"


def test_options_from_line_and_body_are_merged():
    parsed = parse_cell("--model q3-pro", "--duration 8\nA cat runs")
    assert parsed.options == {"model": "q3-pro", "duration": 8}
    assert parsed.prompt == "A cat runs"


def test_blank_lines_between_option_lines_and_prompt():
    parsed = parse_cell("", "\n--duration 5\n\n--seed 3\n\nA cat runs\n")
    assert parsed.options == {"duration": 5, "seed": 3}
    assert parsed.prompt == "A cat runs"


def test_indented_option_line_is_still_an_option_line():
    parsed = parse_cell("", "   --duration 5\nA cat")
    assert parsed.options == {"duration": 5}
    assert parsed.prompt == "A cat"


def test_option_lines_after_the_prompt_starts_are_prompt_text():
    body = "A cat runs\n--duration 5"
    parsed = parse_cell("", body)
    assert parsed.options == {}
    assert parsed.prompt == "A cat runs\n--duration 5"


def test_empty_line_and_no_body():
    assert parse_cell("", None) == ParsedCell()
    assert parse_cell("", "") == ParsedCell()
    assert parse_cell("   ", "\n\n  \n") == ParsedCell()


def test_only_options_no_prompt():
    parsed = parse_cell("--image https://e.com/a.jpg", "--duration 4\n")
    assert parsed.options == {"image": ["https://e.com/a.jpg"], "duration": 4}
    assert parsed.prompt == ""


def test_prompt_option_instead_of_body():
    parsed = parse_cell('--prompt "A cat under the moon"', None)
    assert parsed.prompt == "A cat under the moon"
    assert "prompt" not in parsed.options


def test_prompt_option_and_body_prompt_is_an_error():
    with pytest.raises(VideoUsageError, match="prompt is given twice"):
        parse_cell('--prompt "A cat"', "A dog")


# ---------------------------------------------------------------------------------------
# Quoting and spellings


def test_shell_quoting_double_quotes():
    parsed = parse_cell('--negative "blurry, dark"', "A cat")
    assert parsed.options == {"negative": "blurry, dark"}


def test_shell_quoting_single_quotes_and_in_body_lines():
    parsed = parse_cell("", "--negative 'low quality, text'\nA cat")
    assert parsed.options == {"negative": "low quality, text"}


def test_quoted_value_with_an_option_like_text_inside():
    parsed = parse_cell("""--negative "--not an option" """, "A cat")
    assert parsed.options == {"negative": "--not an option"}


def test_name_equals_value():
    parsed = parse_cell("--duration=5 --negative=blurry --ratio=16:9", "A cat")
    assert parsed.options == {"duration": 5, "negative": "blurry", "ratio": "16:9"}


def test_name_equals_quoted_value_with_spaces_and_equals():
    parsed = parse_cell('--negative="a=b, c d"', "x")
    assert parsed.options == {"negative": "a=b, c d"}


@pytest.mark.parametrize(
    ("spelled", "value", "key", "expected"),
    [
        ("--aspect_ratio", "9:16", "ratio", "9:16"),
        ("--aspect-ratio", "9:16", "ratio", "9:16"),
        ("--negative-prompt", "blurry", "negative", "blurry"),
        ("--negative_prompt", "blurry", "negative", "blurry"),
        ("--first_frame", "https://e.com/a.jpg", "first-frame", "https://e.com/a.jpg"),
        ("--first-frame", "https://e.com/a.jpg", "first-frame", "https://e.com/a.jpg"),
        ("--last_frame", "https://e.com/b.jpg", "last-frame", "https://e.com/b.jpg"),
        ("--first_frame_url", "https://e.com/a.jpg", "first-frame", "https://e.com/a.jpg"),
        ("--last_frame_url", "https://e.com/b.jpg", "last-frame", "https://e.com/b.jpg"),
        ("--img_url", "https://e.com/a.jpg", "image", ["https://e.com/a.jpg"]),
        ("--img-url", "https://e.com/a.jpg", "image", ["https://e.com/a.jpg"]),
        ("--audio_url", "https://e.com/a.mp3", "driving-audio", "https://e.com/a.mp3"),
        ("--driving_audio", "https://e.com/a.mp3", "driving-audio", "https://e.com/a.mp3"),
        ("--first_clip", "https://e.com/c.mp4", "video", "https://e.com/c.mp4"),
        ("--base", "https://e.com/c.mp4", "video", "https://e.com/c.mp4"),
        ("--refer", "https://e.com/r.jpg", "ref", ["https://e.com/r.jpg"]),
        ("--shot_type", "intelligence", "shot-type", "intelligence"),
        ("--shot-type", "intelligence", "shot-type", "intelligence"),
    ],
)
def test_api_field_names_in_snake_and_kebab_case(spelled, value, key, expected):
    parsed = parse_cell(f"{spelled} {value}", "A cat")
    assert parsed.options == {key: expected}


@pytest.mark.parametrize(
    ("spelled", "key", "expected"),
    [
        ("--prompt_extend", "prompt-extend", True),
        ("--prompt-extend", "prompt-extend", True),
        ("--no-prompt_extend", "prompt-extend", False),
        ("--no-prompt-extend", "prompt-extend", False),
        ("--no_prompt_extend", "prompt-extend", False),
        ("--audio", "audio", True),
        ("--no-audio", "audio", False),
        ("--watermark", "watermark", True),
        ("--no-watermark", "watermark", False),
        ("--keep_original_sound", "keep-original-sound", True),
        ("--no-keep-original-sound", "keep-original-sound", False),
        ("--multi_shot", "multi-shot", True),
        ("--multi-shot", "multi-shot", True),
        ("--dry-run", "dry-run", True),
        ("--dry_run", "dry-run", True),
    ],
)
def test_switches(spelled, key, expected):
    assert parse_cell(spelled, "x").options == {key: expected}


def test_short_out_option():
    assert parse_cell("-o clip", "x").options == {"out": "clip"}
    assert parse_cell("--out clip", "x").options == {"out": "clip"}
    assert parse_cell("-m q3-pro", "x").options == {"model": "q3-pro"}


def test_repeated_list_options_keep_their_order():
    line = "--ref https://e.com/1.jpg --ref https://e.com/2.jpg"
    body = "--ref https://e.com/3.mp4\n--image a.png\n--image b.png\nprompt"
    parsed = parse_cell(line, body)
    assert parsed.options["ref"] == ["https://e.com/1.jpg", "https://e.com/2.jpg", "https://e.com/3.mp4"]
    assert parsed.options["image"] == ["a.png", "b.png"]


def test_list_option_aliases_share_one_list():
    parsed = parse_cell("--image a.png --img_url b.png", "x")
    assert parsed.options == {"image": ["a.png", "b.png"]}


def test_negative_number_value_is_taken_as_the_value():
    # the range check (build_request) must see -1, not "missing value"
    assert parse_cell("--seed -1", "x").options == {"seed": -1}


def test_duration_is_an_int():
    parsed = parse_cell("--duration 10", "x")
    assert parsed.options["duration"] == 10 and isinstance(parsed.options["duration"], int)


def test_timeout_is_a_float():
    assert parse_cell("--timeout 2.5", "x").options == {"timeout": 2.5}


def test_options_are_case_sensitive():
    with pytest.raises(VideoUsageError, match="did you mean --duration"):
        parse_cell("--Duration 5", "x")


# ---------------------------------------------------------------------------------------
# The prompt, kept verbatim


@pytest.mark.parametrize(
    "prompt",
    [
        "A cat named {x} chases {{the}} ball",
        "Costs $HOME and ${PATH} and $1",
        'He said "hi" and \'bye\' and `tick`',
        "一只小猫在月光下奔跑",
        "emoji 🐈 and accents é ñ ü",
        "a backslash \\ and \\n not a newline",
        "# not a comment; not a shell | pipe > file",
        "一只<<<element_1>>>在月光下奔跑",
        "ends with -- dashes --",
        "has --dashes inside",
    ],
)
def test_prompt_is_verbatim(prompt):
    assert parse_cell("", prompt).prompt == prompt
    assert parse_cell("--duration 5", "--seed 1\n" + prompt).prompt == prompt


def test_trailing_spaces_inside_lines_are_kept():
    body = "line one   \n  line two with indent  \nline three"
    assert parse_cell("", body).prompt == body


def test_blank_lines_inside_the_prompt_are_kept():
    body = "first paragraph\n\n\nsecond paragraph\n\nthird"
    assert parse_cell("", "--duration 5\n" + body).prompt == body


def test_outer_blank_lines_are_stripped():
    assert parse_cell("", "\n\nA cat\n\n\n").prompt == "A cat"


def test_tabs_inside_the_prompt_are_kept():
    body = "col1\tcol2\nnext\tline"
    assert parse_cell("", body).prompt == body


def test_backslash_escape_for_a_prompt_line_starting_with_dashes():
    parsed = parse_cell("--duration 5", "\\--flag-like first line\nsecond line")
    assert parsed.options == {"duration": 5}
    assert parsed.prompt == "--flag-like first line\nsecond line"


def test_backslash_escape_inside_the_prompt():
    parsed = parse_cell("", "first line\n\\--second line starts with dashes")
    assert parsed.prompt == "first line\n--second line starts with dashes"


def test_backslash_escape_after_option_lines():
    parsed = parse_cell("", "--seed 3\n\\-- dash dash\n")
    assert parsed.options == {"seed": 3}
    assert parsed.prompt == "-- dash dash"


def test_backslash_not_followed_by_dashes_is_kept():
    assert parse_cell("", "\\-single dash").prompt == "\\-single dash"
    assert parse_cell("", "\\n literally").prompt == "\\n literally"


def test_escaped_triple_dash_is_a_literal_prompt_line_not_a_shot_separator():
    parsed = parse_cell("", "Scene A\n\\---\nScene B")
    assert parsed.shots == []
    assert parsed.prompt == "Scene A\n---\nScene B"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1e"])
def test_unicode_line_separators_inside_the_prompt_are_kept(separator):
    prompt = f"first{separator}second"
    assert parse_cell("", prompt).prompt == prompt


# ---------------------------------------------------------------------------------------
# Storyboard shots


def test_triple_dash_separates_shots():
    body = "--duration 10\nShot one: a cat wakes up\n---\nShot two: it stretches\n---\nShot three: it leaves"
    parsed = parse_cell("", body)
    assert parsed.options == {"duration": 10}
    assert parsed.shots == ["Shot one: a cat wakes up", "Shot two: it stretches", "Shot three: it leaves"]
    assert parsed.prompt == "Shot one: a cat wakes up\nShot two: it stretches\nShot three: it leaves"


def test_shots_keep_multiline_text_and_strip_outer_blanks():
    body = "a\nb\n\n---\n\nc  \nd\n"
    parsed = parse_cell("", body)
    assert parsed.shots == ["a\nb", "c  \nd"]


def test_separator_with_surrounding_spaces_counts():
    parsed = parse_cell("", "one\n  ---  \ntwo")
    assert parsed.shots == ["one", "two"]


def test_four_dashes_or_text_after_dashes_are_not_separators():
    parsed = parse_cell("", "one\n----\ntwo\n--- not a separator")
    assert parsed.shots == []
    assert parsed.prompt == "one\n----\ntwo\n--- not a separator"


def test_empty_shot_is_kept_as_empty_string():
    parsed = parse_cell("", "one\n---\n---\nthree")
    assert parsed.shots == ["one", "", "three"]


def test_no_separator_means_no_shots():
    assert parse_cell("", "a\nb").shots == []


# ---------------------------------------------------------------------------------------
# Errors: each one a VideoUsageError naming the option


def test_unknown_option_with_did_you_mean():
    with pytest.raises(VideoUsageError) as err:
        parse_cell("--duraton 5", "x")
    assert "--duraton" in str(err.value)
    assert "did you mean --duration?" in str(err.value)


def test_unknown_option_in_a_body_line():
    with pytest.raises(VideoUsageError, match=r"unknown option '--resolutoin'.*did you mean --resolution"):
        parse_cell("", "--resolutoin 720P\nx")


def test_unknown_option_without_close_match_points_to_help():
    with pytest.raises(VideoUsageError) as err:
        parse_cell("--zzzzqqq 1", "x")
    assert "unknown option '--zzzzqqq'" in str(err.value)
    assert "%%vidu?" in str(err.value)


def test_no_prefix_on_a_non_switch_is_unknown():
    with pytest.raises(VideoUsageError, match="unknown option '--no-duration'"):
        parse_cell("--no-duration", "x")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--duration", "--duration needs a value (N)"),
        ("--model", "--model needs a value (NAME)"),
        ("-o", "--out needs a value (NAME)"),
        ("--seed 3 --negative", "--negative needs a value (TEXT)"),
    ],
)
def test_missing_value(line, message):
    with pytest.raises(VideoUsageError) as err:
        parse_cell(line, "x")
    assert message in str(err.value)


def test_missing_value_on_a_body_line():
    with pytest.raises(VideoUsageError, match="--image needs a value"):
        parse_cell("", "--image\nA cat")


def test_option_followed_by_another_option_is_a_missing_value():
    with pytest.raises(VideoUsageError, match="needs a value"):
        parse_cell("-o --dry-run", "A cat")


@pytest.mark.parametrize(
    ("line", "body", "message"),
    [
        ("--duration 5 --duration 6", "x", "--duration is given twice (5 and 6)"),
        ("--model q3-pro", "--model q2\nx", "--model is given twice ('q3-pro' and 'q2')"),
        ("--audio --no-audio", "x", "--audio is given twice (True and False)"),
        ("--negative a --negative-prompt b", "x", "--negative is given twice ('a' and 'b')"),
        ("--ratio 16:9 --aspect_ratio 1:1", "x", "--ratio is given twice"),
        ("--video a.mp4 --first_clip b.mp4", "x", "--video is given twice"),
    ],
)
def test_value_given_twice(line, body, message):
    with pytest.raises(VideoUsageError) as err:
        parse_cell(line, body)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ('--negative "blurry', "x"),
        ("--negative 'blurry", "x"),
        ("", '--negative "blurry\nA cat'),
        ("--negative trailing\\", "x"),
    ],
)
def test_unbalanced_quote(line, body):
    with pytest.raises(VideoUsageError, match="cannot read the options"):
        parse_cell(line, body)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("--audio=yes", "--audio"),
        ("--no-watermark=1", "--watermark"),
        ("--dry-run=true", "--dry-run"),
        ("--multi-shot=1", "--multi-shot"),
    ],
)
def test_switch_given_a_value(line, name):
    with pytest.raises(VideoUsageError) as err:
        parse_cell(line, "x")
    assert f"{name} is a switch and takes no value" in str(err.value)


@pytest.mark.parametrize("value", ["5.5", "five", "5s", "", "1e3"])
def test_non_integer_duration(value):
    with pytest.raises(VideoUsageError) as err:
        parse_cell(f"--duration={value}", "x")
    assert "--duration takes a whole number" in str(err.value)
    assert repr(value) in str(err.value)


def test_non_integer_seed():
    with pytest.raises(VideoUsageError, match="--seed takes a whole number, got 'abc'"):
        parse_cell("--seed abc", "x")


def test_non_number_timeout():
    with pytest.raises(VideoUsageError, match="--timeout takes a number of seconds, got 'soon'"):
        parse_cell("--timeout soon", "x")


@pytest.mark.parametrize("token", ["duration", "5", "-", "-5x", "---", "—duration"])
def test_bare_words_where_an_option_is_expected(token):
    with pytest.raises(VideoUsageError):
        parse_cell(token, "x")


def test_prompt_text_on_the_magic_line_is_an_error_not_a_guess():
    with pytest.raises(VideoUsageError, match="expected an option like --duration 5, got 'A'"):
        parse_cell("--duration 5 A cat", None)


def test_unescaped_prompt_line_starting_with_dashes_is_read_as_options():
    with pytest.raises(VideoUsageError, match="unknown option"):
        parse_cell("", "--- intro text\nA cat")


# ---------------------------------------------------------------------------------------
# The option table itself


def test_usage_text_lists_every_option():
    text = usage_text("vidu")
    assert text.startswith("%%vidu")
    for spec in OPTIONS:
        assert f"--{spec.name}" in text


def test_every_option_spelling_is_unique():
    seen: dict[str, str] = {}
    for spec in OPTIONS:
        for spelling in (spec.name, *spec.aliases):
            for variant in {spelling, spelling.replace("-", "_")}:
                assert variant not in seen, f"{variant} is both {seen[variant]} and {spec.name}"
                seen[variant] = spec.name
