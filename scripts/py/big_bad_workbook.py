"""Writes the hardening issue's hostile workbook: a small XLSX (about 2.4 MB) whose one sheet
inflates to about 250 MiB (under muster's per-part ratio limit) with ROWS rows of three bad
cells each (an invalid e-mail, an unknown community, an unknown role).

usage: python3 scripts/py/big_bad_workbook.py OUT.xlsx [ROWS]
"""
import sys
import zipfile

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 267_966
pad = "x" * 310

parts = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="members" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def cell(col, row, text):
    return f'<c r="{col}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name, body in parts.items():
        z.writestr(name, body)
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
        sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        header = ["matricule", "email", "first_name", "last_name", "community", "role"]
        sheet.write(("<row r=\"1\">" + "".join(cell(c, 1, h) for c, h in zip("ABCDEF", header)) + "</row>").encode())
        for i in range(2, rows + 2):
            values = [f"M{i}", f"bad-{i}-{pad}", "First", "Last", f"Nowhere{pad}", "emperor"]
            sheet.write((f"<row r=\"{i}\">" + "".join(cell(c, i, v) for c, v in zip("ABCDEF", values)) + "</row>").encode())
        sheet.write(b"</sheetData></worksheet>")
