"""Parsing, with its errors coded: a document over the token limit is
refused (GRAPHQL_VALIDATION_FAILED, as API.md has it), any other failure is
GRAPHQL_PARSE_FAILED."""

import bisect
import itertools
import re

from graphql import DocumentNode, GraphQLSyntaxError, Source
from graphql.language import SourceLocation
from graphql.language.parser import Parser, nested_too_deeply_error

from schema.errors import PARSE_FAILED, VALIDATION_FAILED, with_code


_NEWLINE = re.compile(r"\r\n|[\n\r]")  # graphql-core's, in language/location.py


class _IndexedSource(Source):
    """A source that finds the line of a position by bisection.

    graphql-core's Source scans the body from its start for every error's
    location: 100 errors after a 900 KB string literal took a second, and
    six seconds after a block string of 450,000 lines. This indexes the
    line breaks once, at the first error.
    """

    _line_ends: list[int] | None = None  # where each line after the first starts

    def get_location(self, position: int) -> SourceLocation:
        ends = self._line_ends
        if ends is None:
            ends = self._line_ends = self._index()
        # The line breaks that start before the position: those that end at
        # or before it, and a "\r\n" whose "\n" it is.
        before = bisect.bisect_right(ends, position)
        if self.body[position - 1:position + 1] == "\r\n":
            before += 1
        return SourceLocation(before + 1, position + 1 - (ends[before - 1] if before else 0))

    def _index(self) -> list[int]:
        body = self.body
        if "\r" not in body:  # the common case, at the speed of str.split
            lines = body.split("\n")[:-1]
            return list(itertools.accumulate(map((1).__add__, map(len, lines))))
        return [match.end() for match in _NEWLINE.finditer(body)]


class _Parser(Parser):
    """graphql-core's parser, telling its token limit from a syntax error.

    The token limit is enforced where the parser advances (and, for runs of
    comments, inside the lexer); both raise a plain GraphQLSyntaxError, so
    this counts what was read when it is raised.
    """

    def __init__(self, source: str, max_tokens: int) -> None:
        super().__init__(_IndexedSource(source), max_tokens=max_tokens)
        self.max_tokens = max_tokens

    def advance_lexer(self) -> None:
        try:
            super().advance_lexer()
        except GraphQLSyntaxError as error:
            # Comments the lexer skipped before it gave up hang off the last
            # token it returned.
            read, token = self.token_count, self._lexer.token.next
            while token is not None and read <= self.max_tokens:
                read, token = read + 1, token.next
            if read > self.max_tokens:
                with_code(error, VALIDATION_FAILED)
            raise


def parse_document(query: str, *, max_tokens: int) -> DocumentNode:
    parser = _Parser(query, max_tokens)
    try:
        return parser.parse_document()
    except GraphQLSyntaxError as error:
        raise with_code(error, PARSE_FAILED) from None
    except RecursionError:
        pass  # as graphql-core's parse(): outside the handler, the frames go
    raise with_code(nested_too_deeply_error(parser), PARSE_FAILED)
