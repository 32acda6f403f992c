"""The download of an account data export: a thin view over apps.privacy.

The emailed link is the proof (a signed, timestamped token naming the
export), so no sign-in is asked, as for the unsubscribe link. A forged link
is a 404 (there is nothing there); a link or an export past its time is a
403 that says so. The file is read from the private storage and sent as an
attachment that no cache may keep. It lives here, beside the other plain
HTTP views, because apps know nothing of HTTP.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from apps.privacy import links, selectors
from apps.privacy.storage import private_storage


def _refused(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message, "code": "INVALID_TOKEN"}, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def account_data_export_download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        export = selectors.export_for_link(token=token)
    except links.ExpiredLink:
        return _refused(403, "This link has expired; ask for your data again.")
    except links.BadLink:
        return _refused(404, "No export is found at this link.")
    assert export.ready_at is not None
    # Sent whole: one customer's data is small, and a file streamed from a
    # synchronous view would be read through a thread under ASGI all the same.
    with private_storage().open(export.file_name, "rb") as file:
        response = HttpResponse(file.read(), content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(
        True, f"account-data-{export.ready_at:%Y-%m-%d}.json")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response
