#!/usr/bin/env python3
"""Static checks for the themes directory (no Rust toolchain needed).

  python3 themes/check_themes.py

Checks:
  * every i18n/*.toml parses (tomllib) and holds only string values;
  * default fr.toml and en.toml define exactly the same keys, including all
    keys the Rust code looks up (REQUIRED_KEYS);
  * each other theme's fr.toml and en.toml define the same keys;
  * every {{ t.key }} used by a theme's templates (or by the default templates
    it falls back to) exists in the merged catalog (default + theme) of both
    languages;
  * templates contain no inline style, inline script, event handler
    attribute or third-party URL in src/href (CSP / no external assets);
  * static/*.css contain no external url() / @import and no web fonts.
Exit status 1 on any problem.
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent
LANGS = ("fr", "en")

# The lists the server itself enforces at start-up, read from its source so that they cannot
# drift: theme::PAGES (every page template) and theme::REQUIRED_KEYS (keys Rust looks up).
THEME_RS = (ROOT.parent / "idp" / "src" / "theme" / "mod.rs").read_text(encoding="utf-8")


def rust_list(name):
    m = re.search(rf"pub const {name}: &\[&str\] = &\[(.*?)\];", THEME_RS, re.S)
    if not m:
        sys.exit(f"cannot find {name} in idp/src/theme/mod.rs")
    return re.findall(r'"([^"]+)"', m.group(1))


REQUIRED_KEYS = rust_list("REQUIRED_KEYS")
PAGES = ["base.html"] + rust_list("PAGES")

T_KEY = re.compile(r"\bt\.([A-Za-z_][A-Za-z0-9_]*)")
# `{{ n | plural(t=t, key="KEY", lang=lang) }}` needs KEY_one and KEY_other.
PLURAL_KEY = re.compile(r"\bplural\([^)]*?\bkey\s*=\s*[\"']([A-Za-z_][A-Za-z0-9_]*)[\"']")
TERA_EXPR = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
FORBIDDEN = [
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute"),
    (re.compile(r"<style\b", re.I), "inline <style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script> (no src)"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I), "third-party URL"),
]
CSS_FORBIDDEN = [
    (re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.I), "external url()"),
    (re.compile(r"@font-face", re.I), "web font"),
    (re.compile(r"expression\(", re.I), "CSS expression"),
]

problems = []


def problem(msg):
    problems.append(msg)


def load_catalog(path):
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as err:
        problem(f"{path.relative_to(ROOT)}: {err}")
        return {}
    for key, value in data.items():
        if not isinstance(value, str):
            problem(f"{path.relative_to(ROOT)}: key {key!r} is not a flat string")
    return data


def load_catalogs(i18n, lang):
    """i18n/<lang>.toml plus every i18n/<lang>/*.toml (one file per feature), merged as the
    server merges them; a key defined twice is a problem."""
    files = [i18n / f"{lang}.toml"] + sorted((i18n / lang).glob("*.toml"))
    merged = {}
    for path in files:
        if not path.exists():
            continue
        for key, value in load_catalog(path).items():
            if key in merged:
                problem(f"{path.relative_to(ROOT)}: key {key!r} defined twice")
            merged[key] = value
    return merged


def template_keys(path):
    text = path.read_text(encoding="utf-8")
    keys = set()
    for expr in TERA_EXPR.findall(text):
        keys.update(T_KEY.findall(expr))
        for key in PLURAL_KEY.findall(expr):
            keys.update({f"{key}_one", f"{key}_other"})
    return keys


def check_template_markup(path):
    text = path.read_text(encoding="utf-8")
    # Ignore Tera comments ({# ... #}).
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    for rx, what in FORBIDDEN:
        for m in rx.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            problem(f"{path.relative_to(ROOT)}:{line}: {what}: {m.group(0).strip()!r}")


def main():
    default = ROOT / "default"
    themes = sorted(p for p in ROOT.iterdir()
                    if p.is_dir() and any((p / sub).is_dir() for sub in ("templates", "i18n", "static")))

    # Default catalogs.
    cats = {lang: load_catalogs(default / "i18n", lang) for lang in LANGS}
    fr_keys, en_keys = set(cats["fr"]), set(cats["en"])
    for k in sorted(fr_keys - en_keys):
        problem(f"default: key {k!r} in fr.toml but not in en.toml")
    for k in sorted(en_keys - fr_keys):
        problem(f"default: key {k!r} in en.toml but not in fr.toml")
    for lang in LANGS:
        for k in REQUIRED_KEYS:
            if k not in cats[lang]:
                problem(f"default/{lang}.toml: required key {k!r} missing")
            elif not cats[lang][k].strip():
                problem(f"default/{lang}.toml: required key {k!r} is empty")

    for page in PAGES:
        if not (default / "templates" / page).exists():
            problem(f"default/templates/{page} missing")

    for theme in themes:
        name = theme.name
        tdir = theme / "templates"
        overrides = {p.name: p for p in tdir.glob("*.html")} if tdir.exists() else {}
        if name != "default":
            for extra in overrides:
                # A theme replaces pages or the partials they include, never adds templates.
                if extra not in PAGES and not (default / "templates" / extra).exists():
                    problem(f"{name}/templates/{extra}: not a template of the default theme")
        # Effective template set: theme's own, else default's.
        effective = {page: overrides.get(page, default / "templates" / page) for page in PAGES}
        effective.update(overrides)

        merged = {}
        for lang in LANGS:
            merged[lang] = dict(cats[lang])
            if name != "default":
                merged[lang].update(load_catalogs(theme / "i18n", lang))
        if name != "default":
            own_keys = {lang: set(load_catalogs(theme / "i18n", lang)) for lang in LANGS}
            for k in sorted(own_keys["fr"] ^ own_keys["en"]):
                problem(f"{name}: key {k!r} defined in only one of fr.toml/en.toml")

        used = set()
        for page, path in sorted(effective.items()):
            if not path.exists():
                continue
            keys = template_keys(path)
            used |= keys
            for lang in LANGS:
                for k in sorted(keys - set(merged[lang])):
                    problem(f"{name}: {path.relative_to(ROOT)} uses t.{k}, missing in {lang}")
        for path in overrides.values():
            check_template_markup(path)

        for css in (theme / "static").glob("*.css") if (theme / "static").exists() else []:
            text = css.read_text(encoding="utf-8")
            for rx, what in CSS_FORBIDDEN:
                for m in rx.finditer(text):
                    problem(f"{css.relative_to(ROOT)}: {what}: {m.group(0)!r}")
        print(f"theme {name}: {len(effective)} templates, {len(used)} catalog keys used, "
              f"{len(merged['fr'])} keys in merged catalog")

    unused = fr_keys - set(REQUIRED_KEYS)
    for p in (default / "templates").glob("*.html"):
        unused -= template_keys(p)
    if unused:
        print("note: default keys not used by default templates nor required:", sorted(unused))

    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
