package local.eseal;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.ofdrw.core.signatures.SigType;
import org.ofdrw.gm.ses.v1.SES_ESPictrueInfo;
import org.ofdrw.gm.ses.v1.SES_Header;
import org.ofdrw.gm.ses.v4.SESeal;
import org.ofdrw.gm.ses.v4.SES_CertList;
import org.ofdrw.gm.ses.v4.SES_ESPropertyInfo;
import org.ofdrw.gm.ses.v4.SES_SealInfo;
import org.ofdrw.gm.ses.v4.SES_Signature;
import org.ofdrw.gm.ses.v4.TBS_Sign;
import org.ofdrw.sign.verify.container.SESV4ValidateContainer;

/**
 * Checks GB/T 38540 (v4) seals and signatures with ofdrw, and makes "another system's" seals and signatures
 * with ofdrw's classes and BouncyCastle's SM2, for the project's tests. One JVM serves a whole test file:
 * it reads one command per line on stdin (fields separated by tabs) and answers one JSON line on stdout.
 *
 *   seal         &lt;seal.esl&gt;                       parse an SESeal and verify its maker's signature
 *   signature    &lt;ses-signature.der&gt; &lt;data&gt;        ofdrw's SESV4ValidateContainer, plus the embedded seal's
 *                                                maker signature and the signer's certificate in the seal
 *   make-seal    &lt;dir&gt; &lt;name&gt; &lt;picture.png&gt; [&lt;platform-dir&gt;]  a foreign platform: SM2 maker and holder keys and
 *                                                certificates, the SESeal, written into dir; with a platform
 *                                                (make-platform) its maker signs and its root issues
 *   make-platform &lt;dir&gt; &lt;name&gt;                   another platform's SM2 root CA and seal-making certificate
 *   make-crl     &lt;platform-dir&gt; &lt;out.crl&gt; [serials]  the platform root's CRL (SM3withSM2) revoking the
 *                                                comma-separated hex serials
 *   make-signature &lt;dir&gt; &lt;data&gt; &lt;out&gt;            an SES_Signature over SM3(data) with dir's seal and key
 *   sign-ofd     &lt;dir&gt; &lt;in.ofd&gt; &lt;out.ofd&gt;          ofdrw's OFDSigner signs an OFD with dir's seal and key
 *   verify-ofd   &lt;file.ofd&gt;                       ofdrw's OFDValidator (files' SM3 digests, seal match, SES
 *                                                signature over Signature.xml), plus each seal's maker signature
 */
public final class OfdrwChecker {
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    public static void main(String[] args) throws Exception {
        Security.addProvider(BC);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("{\"ok\":true,\"ready\":true}");
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String[] a = line.split("\t");
            try {
                switch (a[0]) {
                    case "seal" -> out.println(seal(Files.readAllBytes(Paths.get(a[1]))));
                    case "signature" -> out.println(signature(Files.readAllBytes(Paths.get(a[1])), Files.readAllBytes(Paths.get(a[2]))));
                    case "make-seal" -> out.println(makeSeal(Paths.get(a[1]), a[2], Files.readAllBytes(Paths.get(a[3])), a.length > 4 ? Paths.get(a[4]) : null));
                    case "make-platform" -> out.println(makePlatform(Paths.get(a[1]), a[2]));
                    case "make-crl" -> out.println(makeCrl(Paths.get(a[1]), Paths.get(a[2]), a.length > 3 ? a[3] : ""));
                    case "sign-ofd" -> out.println(signOfd(Paths.get(a[1]), Paths.get(a[2]), Paths.get(a[3])));
                    case "verify-ofd" -> out.println(verifyOfd(Paths.get(a[1])));
                    case "make-signature" -> out.println(makeSignature(Paths.get(a[1]), Files.readAllBytes(Paths.get(a[2])), Paths.get(a[3])));
                    default -> out.println(fail("unknown command " + a[0]));
                }
            } catch (Throwable e) {
                out.println(fail(e.getClass().getSimpleName() + ": " + e.getMessage()));
            }
        }
    }

    private static String seal(byte[] der) throws Exception {
        SESeal seal = SESeal.getInstance(der);
        SES_SealInfo info = seal.geteSealInfo();
        SES_ESPropertyInfo p = info.getProperty();
        X509Certificate maker = cert(seal.getCert().getOctets());
        boolean makerOk = verify(seal.getSignAlgID().getId(), maker, info.getEncoded("DER"), seal.getSignedValue().getOctets());
        int certs = 0;
        for (ASN1OctetString ignored : p.getCertList().getCerts()) certs++;
        SES_ESPictrueInfo pic = info.getPicture();
        return "{\"ok\":" + makerOk
                + ",\"makerSignatureValid\":" + makerOk
                + ",\"version\":" + info.getHeader().getVersion().getValue()
                + ",\"vid\":" + str(info.getHeader().getVid().getString())
                + ",\"esId\":" + str(info.getEsID().getString())
                + ",\"type\":" + p.getType().getValue()
                + ",\"name\":" + str(p.getName().getString())
                + ",\"certificates\":" + certs
                + ",\"validStart\":" + str(p.getValidStart().getTimeString())
                + ",\"validEnd\":" + str(p.getValidEnd().getTimeString())
                + ",\"pictureType\":" + str(pic.getType().getString())
                + ",\"pictureBytes\":" + pic.getData().getOctets().length
                + ",\"widthMm\":" + pic.getWidth().getValue()
                + ",\"heightMm\":" + pic.getHeight().getValue()
                + ",\"maker\":" + str(maker.getSubjectX500Principal().getName()) + "}";
    }

    private static String signature(byte[] der, byte[] data) throws Exception {
        String ofdrw = "valid";
        try {
            new SESV4ValidateContainer().validate(SigType.Seal, "", data, der);
        } catch (Exception e) {
            ofdrw = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        // What ofdrw does not check: the seal inside the signature, and that the signer is one of its signers.
        SES_Signature sig = SES_Signature.getInstance(der);
        SESeal seal = sig.getToSign().getEseal();
        X509Certificate maker = cert(seal.getCert().getOctets());
        boolean makerOk = verify(seal.getSignAlgID().getId(), maker, seal.geteSealInfo().getEncoded("DER"), seal.getSignedValue().getOctets());
        boolean signerInSeal = false;
        for (ASN1OctetString c : seal.geteSealInfo().getProperty().getCertList().getCerts()) {
            if (c.equals(sig.getCert())) signerInSeal = true;
        }
        boolean ok = "valid".equals(ofdrw) && makerOk && signerInSeal;
        return "{\"ok\":" + ok + ",\"ofdrw\":" + str(ofdrw) + ",\"sealMakerSignatureValid\":" + makerOk
                + ",\"signerInSeal\":" + signerInSeal + ",\"esId\":" + str(seal.geteSealInfo().getEsID().getString()) + "}";
    }

    private static String signOfd(Path dir, Path in, Path out) throws Exception {
        SESeal seal = SESeal.getInstance(Files.readAllBytes(dir.resolve("seal.esl")));
        X509Certificate user = cert(Files.readAllBytes(dir.resolve("user.cer")));
        PrivateKey key = KeyFactory.getInstance("EC", BC).generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("user.p8"))));
        try (org.ofdrw.reader.OFDReader reader = new org.ofdrw.reader.OFDReader(in);
             org.ofdrw.sign.OFDSigner signer = new org.ofdrw.sign.OFDSigner(reader, out)) {
            signer.setSignMode(org.ofdrw.sign.SignMode.ContinueSign);
            signer.setSignContainer(new org.ofdrw.sign.signContainer.SESV4Container(key, seal, user));
            signer.addApPos(new org.ofdrw.sign.stamppos.NormalStampPos(1, 100, 150, 40, 40));
            signer.exeSign();
        }
        return "{\"ok\":true}";
    }

    private static String verifyOfd(Path ofd) throws Exception {
        String ofdrw = "valid";
        try (org.ofdrw.reader.OFDReader reader = new org.ofdrw.reader.OFDReader(ofd);
             org.ofdrw.sign.verify.OFDValidator validator = new org.ofdrw.sign.verify.OFDValidator(reader)) {
            validator.setValidator(new SESV4ValidateContainer());
            validator.exeValidate();
        } catch (Exception e) {
            ofdrw = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        // ofdrw does not check the seal maker's signature: every SignedValue.dat's seal, here.
        int signatures = 0;
        boolean makersOk = true;
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(ofd.toFile())) {
            for (java.util.Enumeration<? extends java.util.zip.ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                java.util.zip.ZipEntry entry = e.nextElement();
                if (!entry.getName().endsWith("/SignedValue.dat")) continue;
                signatures++;
                SESeal seal = SES_Signature.getInstance(zip.getInputStream(entry).readAllBytes()).getToSign().getEseal();
                X509Certificate maker = cert(seal.getCert().getOctets());
                makersOk &= verify(seal.getSignAlgID().getId(), maker, seal.geteSealInfo().getEncoded("DER"), seal.getSignedValue().getOctets());
            }
        }
        boolean ok = "valid".equals(ofdrw) && signatures > 0 && makersOk;
        return "{\"ok\":" + ok + ",\"ofdrw\":" + str(ofdrw) + ",\"signatures\":" + signatures + ",\"sealMakerSignaturesValid\":" + makersOk + "}";
    }

    private static String makePlatform(Path dir, String name) throws Exception {
        Files.createDirectories(dir);
        KeyPair rootKey = sm2KeyPair();
        KeyPair makerKey = sm2KeyPair();
        Date now = new Date(System.currentTimeMillis() - 60_000);
        Date end = new Date(now.getTime() + 5L * 365 * 24 * 3600 * 1000);
        String rootName = "CN=" + name + " Root CA,O=" + name + ",C=CN";
        X509Certificate root = certificate(rootName, rootKey, rootName, rootKey, now, end, true);
        X509Certificate maker = certificate("CN=" + name + " Seal Maker,O=" + name + ",C=CN", makerKey, rootName, rootKey, now, end, false);
        Files.write(dir.resolve("root.cer"), root.getEncoded());
        Files.write(dir.resolve("root.p8"), rootKey.getPrivate().getEncoded());
        Files.write(dir.resolve("maker.cer"), maker.getEncoded());
        Files.write(dir.resolve("maker.p8"), makerKey.getPrivate().getEncoded());
        return "{\"ok\":true,\"rootSerial\":" + str(root.getSerialNumber().toString(16)) + ",\"makerSerial\":" + str(maker.getSerialNumber().toString(16)) + "}";
    }

    private static String makeCrl(Path platform, Path out, String serials) throws Exception {
        X509Certificate root = cert(Files.readAllBytes(platform.resolve("root.cer")));
        PrivateKey rootKey = KeyFactory.getInstance("EC", BC).generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(platform.resolve("root.p8"))));
        Date now = new Date();
        org.bouncycastle.cert.X509v2CRLBuilder b = new org.bouncycastle.cert.X509v2CRLBuilder(X500Name.getInstance(root.getSubjectX500Principal().getEncoded()), now);
        b.setNextUpdate(new Date(now.getTime() + 24L * 3600 * 1000));
        int n = 0;
        for (String s : serials.split(",")) {
            if (s.isBlank()) continue;
            b.addCRLEntry(new BigInteger(s.trim(), 16), now, org.bouncycastle.asn1.x509.CRLReason.keyCompromise);
            n++;
        }
        Files.write(out, b.build(new JcaContentSignerBuilder("SM3withSM2").setProvider(BC).build(rootKey)).getEncoded());
        return "{\"ok\":true,\"revoked\":" + n + "}";
    }

    private static String makeSeal(Path dir, String name, byte[] picture, Path platform) throws Exception {
        Files.createDirectories(dir);
        KeyPair makerKey;
        KeyPair userKey = sm2KeyPair();
        Date now = new Date(System.currentTimeMillis() - 60_000);
        Date end = new Date(now.getTime() + 2L * 365 * 24 * 3600 * 1000);
        X509Certificate maker;
        X509Certificate user;
        if (platform == null) {
            makerKey = sm2KeyPair();
            maker = certificate("CN=Other Platform Seal Maker,O=Other E-Seal Platform,C=CN", makerKey, "CN=Other Platform Seal Maker,O=Other E-Seal Platform,C=CN", makerKey, now, end, true);
            user = certificate("CN=" + name + ",O=Other E-Seal Platform,C=CN", userKey, "CN=Other Platform Seal Maker,O=Other E-Seal Platform,C=CN", makerKey, now, end, false);
        } else {
            // The platform's seal maker signs the seal; its root CA issues the holder's certificate.
            KeyFactory kf = KeyFactory.getInstance("EC", BC);
            X509Certificate root = cert(Files.readAllBytes(platform.resolve("root.cer")));
            KeyPair rootKey = new KeyPair(root.getPublicKey(), kf.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(platform.resolve("root.p8")))));
            maker = cert(Files.readAllBytes(platform.resolve("maker.cer")));
            makerKey = new KeyPair(maker.getPublicKey(), kf.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(platform.resolve("maker.p8")))));
            user = certificate("CN=" + name + ",O=Other E-Seal Platform,C=CN", userKey, X500Name.getInstance(root.getSubjectX500Principal().getEncoded()).toString(), rootKey, now, end, false);
        }
        ASN1EncodableVector certs = new ASN1EncodableVector(1);
        certs.add(new DEROctetString(user.getEncoded()));
        SES_ESPropertyInfo property = new SES_ESPropertyInfo()
                .setType(new ASN1Integer(1))
                .setName(new DERUTF8String(name))
                .setCertListType(SES_ESPropertyInfo.CertListType)
                .setCertList(SES_CertList.getInstance(SES_ESPropertyInfo.CertListType, new DERSequence(certs)))
                .setCreateDate(new ASN1GeneralizedTime(now))
                .setValidStart(new ASN1GeneralizedTime(now))
                .setValidEnd(new ASN1GeneralizedTime(end));
        SES_SealInfo info = new SES_SealInfo()
                .setHeader(new SES_Header(SES_Header.V4, new DERIA5String("OFDRW-OTHER")))
                .setEsID("OTHER" + Long.toString(now.getTime()))
                .setProperty(property)
                .setPicture(new SES_ESPictrueInfo().setType("PNG").setData(picture).setWidth(40).setHeight(40));
        Signature sg = Signature.getInstance("SM3withSM2", BC);
        sg.initSign(makerKey.getPrivate());
        sg.update(info.getEncoded("DER"));
        SESeal seal = new SESeal().seteSealInfo(info).setCert(maker).setSignAlgID(GMObjectIdentifiers.sm2sign_with_sm3).setSignedValue(sg.sign());
        Files.write(dir.resolve("seal.esl"), seal.getEncoded("DER"));
        Files.write(dir.resolve("maker.cer"), maker.getEncoded());
        Files.write(dir.resolve("user.cer"), user.getEncoded());
        Files.write(dir.resolve("user.p8"), userKey.getPrivate().getEncoded());
        return "{\"ok\":true,\"esId\":" + str(info.getEsID().getString()) + ",\"userSerial\":" + str(user.getSerialNumber().toString(16)) + "}";
    }

    private static String makeSignature(Path dir, byte[] data, Path out) throws Exception {
        SESeal seal = SESeal.getInstance(Files.readAllBytes(dir.resolve("seal.esl")));
        X509Certificate user = cert(Files.readAllBytes(dir.resolve("user.cer")));
        PrivateKey key = KeyFactory.getInstance("EC", BC).generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("user.p8"))));
        byte[] hash = java.security.MessageDigest.getInstance("SM3", BC).digest(data);
        TBS_Sign tbs = new TBS_Sign()
                .setVersion(SES_Header.V4)
                .setEseal(seal)
                .setTimeInfo(new ASN1GeneralizedTime(new Date()))
                .setDataHash(hash)
                .setPropertyInfo("/Doc_0/Signs/Sign_0/Signature.xml");
        Signature sg = Signature.getInstance("SM3withSM2", BC);
        sg.initSign(key);
        sg.update(tbs.getEncoded("DER"));
        SES_Signature sig = new SES_Signature().setToSign(tbs).setCert(user).setSignatureAlgID(GMObjectIdentifiers.sm2sign_with_sm3).setSignature(sg.sign());
        Files.write(out, sig.getEncoded("DER"));
        return "{\"ok\":true}";
    }

    private static KeyPair sm2KeyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
        g.initialize(new ECGenParameterSpec("sm2p256v1"));
        return g.generateKeyPair();
    }

    private static X509Certificate certificate(String subject, KeyPair subjectKey, String issuer, KeyPair issuerKey, Date from, Date to, boolean ca) throws Exception {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer), new BigInteger(64, new java.security.SecureRandom()).add(BigInteger.ONE),
                from, to, new X500Name(subject), subjectKey.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.digitalSignature : KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
        return new JcaX509CertificateConverter().setProvider(BC).getCertificate(b.build(new JcaContentSignerBuilder("SM3withSM2").setProvider(BC).build(issuerKey.getPrivate())));
    }

    private static X509Certificate cert(byte[] der) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509", BC).generateCertificate(new ByteArrayInputStream(der));
    }

    private static boolean verify(String alg, X509Certificate cert, byte[] data, byte[] signature) {
        try {
            Signature sg = Signature.getInstance(alg, BC);
            sg.initVerify(cert);
            sg.update(data);
            return sg.verify(signature);
        } catch (Exception e) {
            return false;
        }
    }

    private static String fail(String message) {
        return "{\"ok\":false,\"error\":" + str(message) + "}";
    }

    private static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private OfdrwChecker() {}
}
