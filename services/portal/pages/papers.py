"""A migrant's own papers for their case: the case page lists what is still missing, each with a
form that sends a photo (the phone's camera) or a PDF to the documents vault with the migrant's
own token, linked to the case. The vault decides who may add what (a migrant: only to their own
records); the portal only forwards and shows the answer."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from ..signin import require, token
from . import udc_forms as forms
from .me import page_params

bp = Blueprint("papers", __name__)


@bp.post("/cases/<case_id>/papers")
@require("migrant")
def upload(case_id: str):
    doc_type = request.form.get("doc_type", "")
    result = forms.upload(g.user["migrant_ref"], doc_type, case_id)
    if result.get("errors"):
        data = current_app.config["BACKENDS"].casestatus.get(f"/cases/{quote(case_id, safe='')}/timeline", token(),
                                                              page_params())
        return render_template("case.html", data=data, upload_errors=result["errors"]), 422
    return redirect(url_for("me.case", case_id=case_id, uploaded=doc_type))
