// Test documents in OFD (GB/T 33190).
import { zipSync } from 'fflate';

/** The smallest OFD document ofdrw reads: one A4 page with one line of text. */
export function minimalOfd(line: string): Buffer {
  const ns = 'xmlns:ofd="http://www.ofdspec.org/2016"';
  const xml = (s: string) => new Uint8Array(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${s}`));
  return Buffer.from(
    zipSync({
      'OFD.xml': xml(`<ofd:OFD ${ns} Version="1.1" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>0c7d6bb5f2f54d21a1a3e1c0b2f5a001</ofd:DocID><ofd:Creator>eseal-test</ofd:Creator></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`),
      'Doc_0/Document.xml': xml(
        `<ofd:Document ${ns}><ofd:CommonData><ofd:MaxUnitID>4</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>`,
      ),
      'Doc_0/PublicRes.xml': xml(`<ofd:Res ${ns} BaseLoc="Res"><ofd:Fonts><ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>`),
      'Doc_0/Pages/Page_0/Content.xml': xml(
        `<ofd:Page ${ns}><ofd:Content><ofd:Layer ID="3"><ofd:TextObject ID="4" Boundary="20 20 170 10" Font="2" Size="5"><ofd:TextCode X="0" Y="5">${line}</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>`,
      ),
    }),
  );
}
