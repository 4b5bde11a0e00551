from __future__ import annotations

import loupe.errors as errors


def test_hierarchy_codes_statuses_and_exit_codes_are_unique_and_documented() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert all(issubclass(cls, errors.LoupeError) for cls in classes)
    assert len({cls.code for cls in classes}) == len(classes)
    assert len({cls.exit_code for cls in classes}) == len(classes)
    for cls in classes:
        assert cls.__name__ in (errors.__doc__ or "")
        # Client errors, but for Unavailable: the server's disk or database (503).
        assert 400 <= cls.http_status < 500 or cls is errors.Unavailable
    assert errors.Unavailable.http_status == 503


def test_error_body_shape() -> None:
    body = errors.InvalidInput("answer: nope", details={"field": "answer"}).to_dict()
    assert body == {
        "error": {
            "code": "invalid_input",
            "message": "answer: nope",
            "details": {"field": "answer"},
        }
    }


def test_all_is_sorted() -> None:
    assert errors.__all__ == sorted(errors.__all__)
