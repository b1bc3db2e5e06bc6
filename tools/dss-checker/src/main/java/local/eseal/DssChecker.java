package local.eseal;

import eu.europa.esig.dss.enumerations.Indication;
import eu.europa.esig.dss.enumerations.SubIndication;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.simplereport.SimpleReport;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import eu.europa.esig.dss.spi.x509.CommonTrustedCertificateSource;
import eu.europa.esig.dss.spi.x509.revocation.crl.ExternalResourcesCRLSource;
import eu.europa.esig.dss.spi.x509.revocation.ocsp.ExternalResourcesOCSPSource;
import eu.europa.esig.dss.validation.SignedDocumentValidator;
import eu.europa.esig.dss.validation.reports.Reports;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Validates signed documents with the EU DSS library and prints its simple report, one line per signature:
 * file, signature id, indication, sub-indication, signature level (e.g. PAdES-BASELINE-LT).
 *
 *   dss-checker --root root.pem [--crl f.crl]... [--ocsp f.der]... signed.pdf | sig.p7s=content ...
 *
 * The root given is the only trust anchor; revocation data comes only from the documents themselves and the
 * --crl/--ocsp files (nothing is fetched: no AIA, CRL or OCSP requests). Several documents per JVM: a cold start
 * costs about a second, a validation tens of milliseconds.
 */
public final class DssChecker {
  public static void main(String[] args) throws Exception {
    String root = null;
    List<DSSDocument> crls = new ArrayList<>();
    List<DSSDocument> ocsps = new ArrayList<>();
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--root" -> root = args[++i];
        case "--crl" -> crls.add(new FileDocument(args[++i]));
        case "--ocsp" -> ocsps.add(new FileDocument(args[++i]));
        default -> files.add(args[i]);
      }
    }
    if (root == null || files.isEmpty()) {
      System.err.println("usage: dss-checker --root root.pem [--crl f.crl]... [--ocsp f.der]... signed.pdf | sig.p7s=content ...");
      System.exit(2);
    }
    CommonTrustedCertificateSource trusted = new CommonTrustedCertificateSource();
    trusted.addCertificate(DSSUtils.loadCertificate(new File(root)));
    CommonCertificateVerifier verifier = new CommonCertificateVerifier();
    verifier.setTrustedCertSources(trusted);
    verifier.setAIASource(null);
    if (!crls.isEmpty()) verifier.setCrlSource(new ExternalResourcesCRLSource(crls.toArray(new DSSDocument[0])));
    if (!ocsps.isEmpty()) verifier.setOcspSource(new ExternalResourcesOCSPSource(ocsps.toArray(new DSSDocument[0])));

    for (String f : files) {
      String[] parts = f.split("=", 2);
      SignedDocumentValidator validator = SignedDocumentValidator.fromDocument(new FileDocument(parts[0]));
      validator.setCertificateVerifier(verifier);
      if (parts.length == 2) validator.setDetachedContents(List.of(new FileDocument(parts[1])));
      Reports reports = validator.validateDocument();
      SimpleReport simple = reports.getSimpleReport();
      if (simple.getSignatureIdList().isEmpty()) System.out.println(parts[0] + "\t-\tNO_SIGNATURE\t-\t-");
      for (String id : simple.getSignatureIdList()) {
        Indication ind = simple.getIndication(id);
        SubIndication sub = simple.getSubIndication(id);
        System.out.println(parts[0] + "\t" + id + "\t" + ind + "\t" + (sub == null ? "-" : sub) + "\t" + simple.getSignatureFormat(id));
      }
    }
  }
}
