from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse


class RequestBodyLimitMiddleware:
    """Answer 413, not Django's generic 400, to an oversized GraphQL body.

    A JSON body may be GRAPHQL_MAX_BODY_SIZE bytes; a multipart upload may
    carry UPLOAD_MAX_FILES files of UPLOAD_MAX_SIZE each (the per-file limit is
    checked again where the file is read).
    """

    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        refusal = self.refusal(request)
        if iscoroutinefunction(self):
            return self._acall(request, refusal)
        return refusal or self.get_response(request)

    async def _acall(self, request, refusal):
        return refusal or await self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> JsonResponse | None:
        if request.method != "POST" or not request.path.startswith("/graphql"):
            return None
        multipart = request.content_type == "multipart/form-data"
        limit = (
            settings.UPLOAD_MAX_SIZE * settings.UPLOAD_MAX_FILES + settings.GRAPHQL_MAX_BODY_SIZE
            if multipart
            else settings.GRAPHQL_MAX_BODY_SIZE
        )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_big = length > limit
        if not too_big and not multipart and not length:
            # No Content-Length (chunked): Django enforces the same limit on read.
            try:
                request.body  # noqa: B018
            except RequestDataTooBig:
                too_big = True
        if too_big:
            return JsonResponse(
                {"errors": [{"message": f"Request body is larger than {limit} bytes.",
                             "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
                status=413,
            )
        return None
