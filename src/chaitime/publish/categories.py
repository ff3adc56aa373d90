"""Apple Podcasts categories (the 2019 revision Apple lists today), exact case.

A show names one as "Category" or "Category > Subcategory" in chaitime.toml [show] category.
"""

from __future__ import annotations

from ..errors import ConfigError

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences", "Nature",
                "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby", "Running",
               "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}


def parse_category(value: str, where: str = "chaitime.toml") -> tuple[str, str | None]:
    """'Parent > Child' or 'Parent' -> (parent, child); raise ConfigError for anything Apple doesn't list."""
    parent, _, child = (part.strip() for part in str(value).partition(">"))
    subs = APPLE_CATEGORIES.get(parent)
    if subs is None or (child and child not in subs):
        hint = _closest(parent, child)
        raise ConfigError(
            f"{where}: [show] category {value!r} is not an Apple Podcasts category"
            f"{f' (did you mean {hint!r}?)' if hint else ''}; see `chaitime categories`."
        )
    return parent, child or None


def category_lines() -> list[str]:
    """Every valid value, as the host would write it in chaitime.toml."""
    lines = []
    for parent, subs in APPLE_CATEGORIES.items():
        lines.append(parent)
        lines.extend(f"{parent} > {sub}" for sub in subs)
    return lines


def _closest(parent: str, child: str) -> str | None:
    wanted = (child or parent).casefold()
    for line in category_lines():
        leaf = line.rpartition(">")[2].strip()
        if leaf.casefold() == wanted or line.casefold() == f"{parent} > {child}".casefold():
            return line
    return None
