import importlib
import pkgutil
import re

import telecrm
from telecrm.errors import AppError

SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def _subclasses(cls: type[AppError]) -> list[type[AppError]]:
    found: list[type[AppError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _every_error() -> list[type[AppError]]:
    # A module may declare its own refusal: import them all to see every class.
    for module in pkgutil.walk_packages(telecrm.__path__, "telecrm."):
        if not module.name.endswith("__main__") and ".migrations" not in module.name:
            importlib.import_module(module.name)
    return [AppError, *_subclasses(AppError)]


def test_every_error_code_is_unique_and_snake_case() -> None:
    classes = _every_error()
    assert len(classes) > 30
    declared = [cls.code for cls in classes if "code" in vars(cls)]
    repeated = sorted({code for code in declared if declared.count(code) > 1})
    assert repeated == []
    assert [code for code in declared if not SNAKE_CASE.fullmatch(code)] == []


def test_each_domain_refusal_has_its_own_code() -> None:
    from telecrm.errors import Conflict, NotFound

    for base in (Conflict, NotFound):
        refinements = _subclasses(base)
        assert refinements
        assert [cls.__name__ for cls in refinements if "code" not in vars(cls)] == []


def test_every_refusal_is_declared_in_the_one_error_module() -> None:
    # One place lists every code a client may meet (telecrm/errors.py).
    assert [cls.__qualname__ for cls in _every_error() if cls.__module__ != "telecrm.errors"] == []
