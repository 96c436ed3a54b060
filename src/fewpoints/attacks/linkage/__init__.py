"""Linkage: from a pseudonymous device to a person's name, with public data.

Unicity says a few points single a device out; linkage says whose device it
is. Two kinds of public auxiliary data are enough:

* ``posts``: geotagged posts under a person's name. Each post is a named
  point; the devices whose trace passes near every one of a person's first
  few posts form that person's **anonymity set** (:func:`link_posts`). When
  it holds one device, the person is named.
* ``directory``: names and home addresses of listed adults (think voter
  roll). A device's night-time place is its owner's home; the listed adults
  living there are its candidate names (:func:`link_directory`).

The attacks read only what is released or public (``traces``, ``places``,
``directory``, ``posts``). :func:`linkage_score` and :func:`naming_curve`
compare their output with the ground truth (``people``) to measure how well
they work; no attack ever reads it.

Modules: ``posts`` (posts matched to traces), ``directory`` (names from the
directory) and ``score`` (the scores against the ground truth).
"""

from fewpoints.attacks.linkage.directory import HOME_TOLERANCES as HOME_TOLERANCES
from fewpoints.attacks.linkage.directory import empty_links as empty_links
from fewpoints.attacks.linkage.directory import link_directory
from fewpoints.attacks.linkage.posts import MAX_LISTED as MAX_LISTED
from fewpoints.attacks.linkage.posts import POST_TOLERANCES, link_posts
from fewpoints.attacks.linkage.score import LinkageScore, linkage_score, naming_curve

__all__ = [
    "POST_TOLERANCES",
    "LinkageScore",
    "link_directory",
    "link_posts",
    "linkage_score",
    "naming_curve",
]
