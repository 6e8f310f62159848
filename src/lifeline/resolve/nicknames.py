"""Given-name variants that denote the same person.

Each entry maps a formal given name to the short forms people use for it.
One short form can belong to several formal names (``chris`` is Christopher,
Christian or Christina), so lookups return every formal name a form may
stand for. The table is written in folded form (see
:func:`lifeline.resolve.normalise.fold`) when it is loaded.
"""

from __future__ import annotations

FORMAL_TO_SHORT: dict[str, tuple[str, ...]] = {
    # English
    "william": ("bill", "billy", "will", "willy", "liam"),
    "elizabeth": ("liz", "lizzy", "beth", "betty", "eliza", "lisa"),
    "robert": ("bob", "bobby", "rob", "robbie", "bert"),
    "margaret": ("maggie", "meg", "peggy", "marge", "greta"),
    "christopher": ("chris", "kit", "topher"),
    "christian": ("chris",),
    "christina": ("chris", "tina", "kristina"),
    "jennifer": ("jen", "jenny"),
    "michael": ("mike", "mick", "mikey"),
    "theodore": ("ted", "teddy", "theo"),
    "james": ("jim", "jimmy", "jamie"),
    "daniel": ("dan", "danny"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "richard": ("rick", "dick", "rich", "richie"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "catherine": ("cathy", "kate", "cat"),
    "alexander": ("alex", "sasha", "sandy", "xander"),
    "alexandra": ("alex", "sasha", "sandra"),
    "benjamin": ("ben", "benny"),
    "samuel": ("sam", "sammy"),
    "samantha": ("sam", "sammy"),
    "anthony": ("tony",),
    "nicholas": ("nick", "nicky"),
    "patricia": ("pat", "patty", "trish"),
    "patrick": ("pat", "paddy"),
    "rebecca": ("becky", "becca"),
    "victoria": ("vicky", "tori"),
    "emily": ("em", "emmy"),
    "olivia": ("liv", "livvy"),
    "grace": ("gracie",),
    "steven": ("steve",),
    "stephen": ("steve",),
    "andrew": ("andy", "drew"),
    "matthew": ("matt",),
    "jonathan": ("jon", "jonny"),
    "timothy": ("tim", "timmy"),
    "susan": ("sue", "susie"),
    "deborah": ("debbie", "deb"),
    # German, Dutch, Scandinavian
    "katharina": ("kathi", "katja", "kati", "trina"),
    "johannes": ("hannes", "jo", "johann", "hans"),
    "maximilian": ("max", "maxi"),
    "stephanie": ("steffi",),
    "nikolaus": ("niko", "klaus", "nico"),
    "susanne": ("susi", "sanne"),
    "friedrich": ("fritz",),
    "wolfgang": ("wolf",),
    "elisabeth": ("lisa", "liesel", "sissi", "betty"),
    "frederik": ("freek", "frits"),
    "pieter": ("piet",),
    "johanna": ("hanna", "jo"),
    "margarethe": ("grete", "gretchen"),
    "tobias": ("tobi",),
    "matthias": ("matze", "hias"),
    "ingrid": ("inga",),
    # French
    "guillaume": ("guillo",),
    "isabelle": ("isa", "isabeau"),
    "mathieu": ("mat", "matt"),
    "camille": ("cami",),
    # Spanish
    "jose": ("pepe", "chema"),
    "francisco": ("paco", "pancho", "curro", "fran"),
    "maria jose": ("majo",),
    "javier": ("javi",),
    "guadalupe": ("lupe",),
    # Polish
    "aleksander": ("olek", "alek"),
    "magdalena": ("magda", "madzia"),
    "wojciech": ("wojtek",),
    "agnieszka": ("aga",),
    "malgorzata": ("gosia",),
    "katarzyna": ("kasia",),
}
